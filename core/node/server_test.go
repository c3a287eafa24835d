package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/node/nodetest"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// serverPlugins fills a plugin directory with simulated phones and the
// offline planner.
func serverPlugins(t *testing.T) string { return nodetest.PluginDir(t) }

// startServer runs a server node on 127.0.0.1:0 over plugins and data and
// returns it with its base URL; stop ends it (also at cleanup).
// apiExtra is added to the api section (indented two spaces).
func startServer(t testing.TB, plugins, data string, apiExtra string) (n *Node, url string, stop func()) {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "cloudphone.yaml")
	writeConfig(t, cfgPath, plugins, data, apiExtra, "")
	return startNode(t, cfgPath)
}

// writeConfig writes a server config (atomically: the node watches it);
// tail is appended at the top level.
func writeConfig(t testing.TB, path, plugins, data, apiExtra, tail string) {
	t.Helper()
	nodetest.WriteConfig(t, path, nodetest.Config{Plugins: plugins, Data: data, API: apiExtra, Tail: tail})
}

// startNode runs a server node over the config file cfgPath.
func startNode(t testing.TB, cfgPath string) (n *Node, url string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, Options{ConfigFile: cfgPath, Env: []string{}, Server: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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
	go func() { defer close(served); n.Serve(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-served
		n.Close(context.Background())
	}
	t.Cleanup(stop)
	return n, n.URL(), stop
}

// client is an authenticated HTTP client of a test server.
type client struct {
	t     testing.TB
	url   string
	token string
}

func (c client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// follow reads a task's SSE stream from after to its end and returns the
// events.
func (c client) follow(id string, after int) []tasks.Event {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+"/api/v1/tasks/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.Itoa(after))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("events: %d %s", resp.StatusCode, b)
	}
	var out []tasks.Event
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var id0 int
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id0, _ = strconv.Atoi(line[4:])
		case strings.HasPrefix(line, "data: "):
			var ev tasks.Event
			if err := json.Unmarshal([]byte(line[6:]), &ev); err != nil {
				c.t.Fatalf("event %s: %v", line, err)
			}
			if ev.Seq != id0 {
				c.t.Fatalf("event seq %d under id %d", ev.Seq, id0)
			}
			out = append(out, ev)
		}
	}
	if err := sc.Err(); err != nil {
		c.t.Fatalf("stream: %v (after %d events)", err, len(out))
	}
	return out
}

// TestServerEndToEnd: a token, a submission over HTTP, its SSE stream to
// the end, its steps read back, and the same steps again after a restart
// on the same data directory.
func TestServerEndToEnd(t *testing.T) {
	plugins, data := serverPlugins(t), t.TempDir()
	n, url, stop := startServer(t, plugins, data, "")
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "alice", Tenant: "acme", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := client{t: t, url: url, token: tok}
	waitReady(t, c)
	if undoc, err := n.API.Undocumented(); err != nil || len(undoc) > 0 {
		t.Fatalf("routes missing from openapi.json: %v %v", undoc, err)
	}

	var task tasks.Task
	if code := c.do("POST", "/api/v1/run", map[string]any{"instruction": "打开设置然后打开飞行模式"}, &task); code != 202 {
		t.Fatalf("run: %d %+v", code, task)
	}
	if task.State != tasks.StateQueued || task.Tenant != "acme" || task.CreatedBy != "alice" {
		t.Fatalf("submitted: %+v", task)
	}
	evs := c.follow(task.ID, 0)
	last := evs[len(evs)-1]
	if last.Kind != agent.EventFinished || last.State != tasks.StateSucceeded {
		t.Fatalf("last event %+v", last)
	}
	for i, ev := range evs {
		if ev.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	// A late client resuming mid-stream gets exactly the rest.
	if rest := c.follow(task.ID, 2); len(rest) != len(evs)-2 || rest[0].Seq != 3 {
		t.Fatalf("resumed after 2: %d events, want %d", len(rest), len(evs)-2)
	}
	var steps []tasks.Event
	if code := c.do("GET", "/api/v1/tasks/"+task.ID+"/steps", nil, &steps); code != 200 || len(steps) < 2 {
		t.Fatalf("steps: %d %d", code, len(steps))
	}
	var got tasks.Task
	if c.do("GET", "/api/v1/tasks/"+task.ID, nil, &got); got.State != tasks.StateSucceeded || got.Steps != len(steps) {
		t.Fatalf("task after: %+v (%d steps)", got, len(steps))
	}
	if steps[0].ScreenshotSHA256 == "" {
		t.Fatalf("step 1 has no screenshot: %+v", steps[0])
	}
	shot := c.raw("/api/v1/screenshots/" + steps[0].ScreenshotSHA256)
	if !bytes.HasPrefix(shot, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG: %q", shot[:min(len(shot), 8)])
	}

	// The submission is in the audit log, whose chain verifies (admins only).
	admin, _, _ := n.Auth.Issue(auth.TokenSpec{Subject: "root", Tenant: "default", Role: auth.RoleAdmin, TTL: time.Hour})
	var audit struct {
		Entries []struct{ Actor, Tenant, Action, Target, Result string }
		Chain   string
	}
	if code := c.do("GET", "/api/v1/audit", nil, nil); code != 403 {
		t.Errorf("audit as an operator: %d", code)
	}
	client{t: t, url: url, token: admin}.do("GET", "/api/v1/audit?verify=1", nil, &audit)
	found := false
	for _, e := range audit.Entries {
		found = found || (e.Actor == "alice" && e.Tenant == "acme" && e.Target == task.ID && e.Result == "ok")
	}
	if !found || audit.Chain != "ok" {
		t.Errorf("audit: chain %q, entries %+v", audit.Chain, audit.Entries)
	}

	// Public: the metrics (with this task's transitions) and the console.
	pub := client{t: t, url: url}
	if m := string(pub.raw("/metrics")); !strings.Contains(m, `cloudphone_task_transitions_total{state="succeeded"} 1`) {
		t.Errorf("metrics lack the succeeded task:\n%s", grepLines(m, "cloudphone_task"))
	}
	if page := string(pub.raw("/")); !strings.Contains(page, "<html") {
		t.Errorf("console page: %.200s", page)
	}

	stop()
	n2, url2, _ := startServer(t, plugins, data, "")
	_ = n2
	c2 := client{t: t, url: url2, token: tok} // the signing key is kept in data.dir
	var again []tasks.Event
	if code := c2.do("GET", "/api/v1/tasks/"+task.ID+"/steps", nil, &again); code != 200 {
		t.Fatalf("steps after restart: %d", code)
	}
	a, b := mustJSON(t, steps), mustJSON(t, again)
	if !bytes.Equal(a, b) {
		t.Fatalf("steps changed across the restart:\n%s\n%s", a, b)
	}
	if evs2 := c2.follow(task.ID, 0); len(evs2) != len(evs) {
		t.Fatalf("events after restart: %d, want %d", len(evs2), len(evs))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (c client) raw(path string) []byte {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func waitReady(t *testing.T, c client) {
	t.Helper()
	poll(t, func() error {
		var body map[string]string
		if code := c.do("GET", "/readyz", nil, &body); code != 200 {
			return fmt.Errorf("readyz %d: %v", code, body)
		}
		return nil
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
