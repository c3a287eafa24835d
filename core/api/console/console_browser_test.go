package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/node/nodetest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the browser test's screenshot to docs/console.png")

// chromiumPath finds Debian's chromium (make deps installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip("no chromium on this machine (make deps installs Debian's chromium): the console browser test needs it")
	return ""
}

// startNode runs a full server node (store, auth, scheduler, task
// service, simulated phones, the offline planner) on 127.0.0.1:0, as
// `cloudphone serve` does (the node mounts the console, the device stream
// and /metrics), and returns it and its URL.
func startNode(t *testing.T, apiExtra string) (*node.Node, string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "cloudphone.yaml")
	nodetest.WriteConfig(t, cfg, nodetest.Config{Plugins: nodetest.PluginDir(t), Data: t.TempDir(), Phones: 3, API: apiExtra})
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, node.Options{ConfigFile: cfg, Env: []string{}, Server: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := n.Start(ctx, true); err != nil {
		cancel()
		n.Close(context.Background())
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
		n.Close(context.Background())
	})
	return n, n.URL()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleInBrowser drives the console in a headless Chromium against a
// full server: sign in with a token, see the phones with live screenshots
// over the device stream, submit a task, watch its timeline fill in live
// until it finishes, read its steps, confirm and deny paused tasks, then
// the plugins and slices pages.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs a browser")
	}
	chromiumPath(t)
	n, url := startNode(t, "")
	waitReady(t, url)
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "ops", Tenant: "default", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	bctx := browser(t)
	// The first action starts the browser: no timeout on its context.
	if err := chromedp.Do(bctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatalf("start chromium and open the console: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancel)

	fail := func(what string, err error) {
		t.Helper()
		page, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		form, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`JSON.stringify({hash: location.hash,
			instruction: document.getElementById('instruction') && document.getElementById('instruction').value,
			submitDisabled: document.getElementById('submit-task') && document.getElementById('submit-task').disabled})`))
		t.Fatalf("%s: %v\nform: %s\npage text:\n%s", what, err, form, page)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(what, err)
		}
	}
	// waitJS polls a JavaScript condition until it is true.
	waitJS := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			fail(what, err)
		}
	}
	eval := func(what, expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			fail(what, err)
		}
		return v
	}

	// submit types an instruction in the task form and runs it; the page
	// then shows the new task's timeline.
	submit := func(instruction string) {
		t.Helper()
		before := eval("hash", `location.hash`)
		do("type "+instruction, chromedp.WaitVisible(chromedp.ID("instruction")), chromedp.SetValue(chromedp.ID("instruction"), instruction))
		waitJS("instruction typed", fmt.Sprintf(`document.getElementById('instruction').value === %q`, instruction))
		do("run "+instruction, chromedp.Click(chromedp.ID("submit-task")))
		waitJS("timeline of "+instruction, fmt.Sprintf(`location.hash.startsWith('#/tasks/t-') && location.hash !== %q && document.getElementById('timeline') !== null`, before))
	}

	// The page is public and shows the login; a bad token is refused on it.
	do("login form", chromedp.WaitVisible(chromedp.ID("token")))
	do("bad token", chromedp.SetValue(chromedp.ID("token"), "not-a-token"), chromedp.Click(chromedp.ID("login-btn")))
	waitJS("bad token refused", `document.getElementById('login-error').textContent.includes('refused')`)
	do("sign in", chromedp.SetValue(chromedp.ID("token"), tok), chromedp.Click(chromedp.ID("login-btn")),
		chromedp.WaitVisible(chromedp.ID("nav")))
	waitJS("whoami", `document.getElementById('whoami').textContent.includes('operator')`)
	if who := eval("whoami", `document.getElementById('whoami').textContent`); !strings.Contains(who, "tenant default") {
		t.Errorf("header says %q, want the operator of tenant default", who)
	}

	// Devices: three simulated phones, state live over the WebSocket,
	// screenshots loaded with the token.
	waitJS("three device cards", `document.querySelectorAll('#devices .device').length === 3`)
	waitJS("device stream live", `document.querySelector('.live.on') !== null`)
	waitJS("screenshots shown", `[...document.querySelectorAll('#devices .device img')].filter(i => i.complete && i.naturalWidth > 0).length === 3`)

	// A task: submit it in the form, follow the timeline to the end.
	do("tasks page", chromedp.Navigate(url+"/#/tasks"), chromedp.WaitVisible(chromedp.ID("instruction")))
	submit("打开设置然后打开飞行模式")
	waitJS("task finished", `document.getElementById('finished') !== null`)
	waitJS("final state shown", `document.querySelector('#task-state[data-state="succeeded"]') !== null`)
	steps, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline .step').length`))
	if err != nil {
		fail("count steps", err)
	}
	if steps < 2 {
		t.Fatalf("timeline shows %d steps, want at least 2", steps)
	}
	if first := eval("step 1", `document.querySelector('#timeline .step[data-step="1"] .action').textContent`); first == "" {
		t.Errorf("step 1 shows no action")
	}
	waitJS("step screenshots", `[...document.querySelectorAll('#timeline .step img')].filter(i => i.complete && i.naturalWidth > 0).length >= 2`)
	// Drawn, not only present: the CSP must not have dropped their widths.
	waitJS("step timings", `[...document.querySelectorAll('#timeline .step .timings span')].filter(s => s.offsetWidth > 0).length >= 2`)
	id := strings.TrimPrefix(eval("hash", `location.hash`), "#/tasks/")
	waitJS("task listed", fmt.Sprintf(`document.querySelector('#task-list tr[data-task=%q] .badge.succeeded') !== null`, id))

	// The steps the page showed are the server's.
	var apiSteps []map[string]any
	getJSON(t, url+"/api/v1/tasks/"+id+"/steps", tok, &apiSteps)
	if len(apiSteps) != steps {
		t.Errorf("page shows %d steps, the API has %d", steps, len(apiSteps))
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is a PNG (below, a JPEG)
	if err != nil {
		fail("screenshot", err)
	}
	out := filepath.Join(t.TempDir(), "console.png")
	if *updateScreenshot {
		out = "../../../docs/console.png"
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the task timeline: %s (%d bytes)", out, len(png))

	// A sensitive action (sending a message) pauses its task: Confirm lets
	// it finish, Deny fails it.
	for _, tc := range []struct{ button, final string }{{"confirm", "succeeded"}, {"deny", "failed"}} {
		do("tasks page", chromedp.Navigate(url+"/#/tasks"), chromedp.WaitVisible(chromedp.ID("instruction")))
		submit("打开微信给张三发消息说明天开会")
		waitJS("paused for "+tc.button, `document.querySelector('#task-state[data-state="paused"]') !== null && document.getElementById('`+tc.button+`') !== null`)
		do(tc.button, chromedp.Click(chromedp.ID(tc.button)))
		waitJS(tc.button+" → "+tc.final, `document.querySelector('#task-state[data-state="`+tc.final+`"]') !== null && document.getElementById('finished') !== null`)
	}

	// Plugins with versions and history; slices with usage.
	do("plugins page", chromedp.Navigate(url+"/#/plugins"))
	waitJS("plugins listed", `document.querySelector('#plugins tr[data-plugin="planner-intent"] .badge.active') !== null && document.querySelector('#plugins tr[data-plugin="device-sim"]') !== null`)
	waitJS("reload history", `document.querySelector('#plugins tr[data-plugin="planner-intent"] details summary') !== null`)
	do("slices page", chromedp.Navigate(url+"/#/slices"))
	waitJS("slices listed", `document.querySelector('#slices tr[data-slice]') !== null || document.querySelector('#slices td.muted') !== null`)

	// The metrics saw the console's traffic by route, streams included.
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`cloudphone_http_requests_total{code="101",route="GET /api/v1/devices/stream"}`,
		`cloudphone_http_requests_total{code="200",route="GET /api/v1/tasks/{id}/events"}`,
		`cloudphone_http_requests_total{code="202",route="POST /api/v1/run"} 3`,
		`cloudphone_task_transitions_total{state="succeeded"} 2`,
		`cloudphone_task_transitions_total{state="failed"} 1`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Signing out forgets the token.
	do("sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("token")))
	if stored := eval("token gone", `sessionStorage.getItem('cloudphone.token') || ''`); stored != "" {
		t.Error("the token is still in sessionStorage after signing out")
	}
}

// browser starts a headless Chromium for the test (stopped at cleanup).
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) { t.Logf("chromedp: "+f, a...) }))
	t.Cleanup(cancelBrowser)
	return bctx
}

// TestConsoleAuthOff: on a server with api.auth.disabled the console
// needs no token: it opens on the devices, says auth is off, and offers
// no sign-out.
func TestConsoleAuthOff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs a browser")
	}
	chromiumPath(t)
	_, url := startNode(t, "  auth:\n    disabled: true\n")
	waitReady(t, url)
	bctx := browser(t)
	if err := chromedp.Do(bctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#devices .device').length === 3 &&
		document.getElementById('whoami').textContent.includes('auth off') &&
		document.getElementById('login').hidden && document.getElementById('logout').hidden`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		page, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("auth off: %v\npage:\n%s", err, page)
	}
}

func getJSON(t *testing.T, url, tok string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
