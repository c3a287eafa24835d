package android_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// startPhone starts one simulated phone on a system-picked port and
// returns it with a persistent connection to it (redialled after drops).
func startPhone(t testing.TB, mod ...func(*fleet.Options)) (*fleet.Device, *adb.Redialer) {
	t.Helper()
	o := fleet.Options{Count: 1, Listen: "127.0.0.1:0", Logger: quiet}
	for _, m := range mod {
		m(&o)
	}
	f, err := fleet.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(f.Close)
	d := f.Devices()[0]
	r := adb.NewRedialer(d.Serial, nil)
	t.Cleanup(func() { _ = r.Close() })
	return d, r
}

func ctx10(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var boundsRE = regexp.MustCompile(`\[(\d+),(\d+)\]\[(\d+),(\d+)\]`)

// center finds the node whose text (or content-desc) is label in a
// uiautomator dump and returns the centre of its bounds.
func center(t testing.TB, xml, label string) *cpv1.Point {
	t.Helper()
	for _, node := range strings.Split(xml, "<node ") {
		if !strings.Contains(node, `text="`+label+`"`) && !strings.Contains(node, `content-desc="`+label+`"`) {
			continue
		}
		i := strings.Index(node, `bounds="`)
		if i < 0 {
			continue
		}
		m := boundsRE.FindStringSubmatch(node[i:])
		if m == nil {
			continue
		}
		n := make([]int, 4)
		for j := range n {
			n[j], _ = strconv.Atoi(m[j+1])
		}
		return &cpv1.Point{X: int32((n[0] + n[2]) / 2), Y: int32((n[1] + n[3]) / 2)}
	}
	t.Fatalf("no node %q in the UI dump", label)
	return nil
}

func TestObserve(t *testing.T) {
	d, dev := startPhone(t)
	ctx := ctx10(t)
	obs, err := android.Observe(ctx, dev, android.ObserveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(obs.GetScreenshotPng()), "\x89PNG") || len(obs.GetScreenshotSha256()) != 64 {
		t.Errorf("screenshot: %d bytes, sha %q", len(obs.GetScreenshotPng()), obs.GetScreenshotSha256())
	}
	if !strings.HasPrefix(obs.GetUiXml(), "<?xml") || !strings.HasSuffix(obs.GetUiXml(), "</hierarchy>") {
		t.Errorf("ui xml: %.80q…", obs.GetUiXml())
	}
	w, h := d.Phone.Size()
	if obs.GetScreen().GetWidth() != int32(w) || obs.GetScreen().GetHeight() != int32(h) {
		t.Errorf("screen %v, want %dx%d", obs.GetScreen(), w, h)
	}
	if obs.GetCurrentApp() != "com.android.launcher3" || obs.GetCurrentAppName() != "" {
		t.Errorf("current app %q %q", obs.GetCurrentApp(), obs.GetCurrentAppName())
	}

	// Tap the 微信 icon: the current app changes.
	r, err := android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: center(t, obs.GetUiXml(), "微信")}, obs.GetScreen())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.GetMessage(), "input tap ") {
		t.Errorf("message %q", r.GetMessage())
	}
	obs2, err := android.Observe(ctx, dev, android.ObserveOptions{SkipScreenshot: true, SkipUI: true, Screen: obs.GetScreen(), Sequential: true})
	if err != nil {
		t.Fatal(err)
	}
	if obs2.GetCurrentApp() != "com.tencent.mm" || obs2.GetCurrentAppName() != "微信" || obs2.GetUiXml() != "" || len(obs2.GetScreenshotPng()) != 0 {
		t.Errorf("after tap: %q %q, %d bytes of XML, %d of PNG", obs2.GetCurrentApp(), obs2.GetCurrentAppName(), len(obs2.GetUiXml()), len(obs2.GetScreenshotPng()))
	}
}

// openChat launches WeChat and focuses the text field of the first chat.
func openChat(t *testing.T, ctx context.Context, dev adb.Device) {
	t.Helper()
	for _, a := range []*cpv1.Action{
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "微信"},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 300, Y: 560}},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 500, Y: 2180}},
	} {
		if _, err := android.Act(ctx, dev, a, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTypeADBKeyboard(t *testing.T) {
	d, dev := startPhone(t)
	ctx := ctx10(t)
	openChat(t, ctx, dev)
	r, err := android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "你好 world"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.GetMessage(), "ime set "+android.ADBKeyboardIME) {
		t.Errorf("the first type did not select the ADB Keyboard: %q", r.GetMessage())
	}
	if got := d.Phone.State().Keyboard.Text; got != "你好 world" {
		t.Errorf("typed %q", got)
	}
	r, err = android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "再见", ClearText: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.GetMessage(), "ime set") || !strings.Contains(r.GetMessage(), "ADB_CLEAR_TEXT") {
		t.Errorf("second type: %q", r.GetMessage())
	}
	if got := d.Phone.State().Keyboard.Text; got != "再见" {
		t.Errorf("typed %q after clearing", got)
	}
}

// noKeyboard is a device on which the ADB Keyboard is not installed: it
// answers the input-method query with LatinIME only.
type noKeyboard struct{ adb.Device }

func (n noKeyboard) Shell(ctx context.Context, cmd string) ([]byte, []byte, int, error) {
	if strings.HasPrefix(cmd, "settings get secure default_input_method") {
		return []byte("com.android.inputmethod.latin/.LatinIME\ncom.android.inputmethod.latin/.LatinIME\n"), nil, 0, nil
	}
	return n.Device.Shell(ctx, cmd)
}

func TestTypeInputText(t *testing.T) {
	d, conn := startPhone(t)
	ctx := ctx10(t)
	dev := noKeyboard{conn}
	openChat(t, ctx, dev)
	text := `it's "50%s" & $HOME; (ok)  \n`
	r, err := android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: text}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.GetMessage(), "ADB_") || !strings.Contains(r.GetMessage(), "input text") {
		t.Errorf("typed without the keyboard through %q", r.GetMessage())
	}
	if got := d.Phone.State().Keyboard.Text; got != text {
		t.Errorf("typed %q, want %q", got, text)
	}
	_, err = android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "你好"}, nil)
	if !errors.Is(err, android.ErrNonASCII) {
		t.Errorf("Chinese without the ADB Keyboard: %v", err)
	}
}

func TestActErrors(t *testing.T) {
	_, dev := startPhone(t)
	ctx := ctx10(t)
	screen := &cpv1.ScreenSize{Width: 1080, Height: 2400}
	for _, a := range []*cpv1.Action{
		nil,
		{},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 1080, Y: 5}},
		{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: &cpv1.Point{X: 1, Y: 5}, End: &cpv1.Point{X: -1, Y: 5}},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "teleport"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "no such app"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "x; reboot"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.example.missing"},
		{Type: cpv1.ActionType(99)},
	} {
		if r, err := android.Act(ctx, dev, a, screen); err == nil {
			t.Errorf("Act(%v) = %v, want an error", a, r)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := android.Act(wctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT, DurationMs: 60000}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait past the deadline: %v", err)
	}
	r, err := android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT, DurationMs: 20}, nil)
	if err != nil || r.GetDurationUs() < 20000 {
		t.Errorf("wait: %v %v", r, err)
	}
}

func TestKeysAndLaunch(t *testing.T) {
	d, dev := startPhone(t)
	ctx := ctx10(t)
	steps := []struct {
		a    *cpv1.Action
		want string
	}{
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.android.settings"}, "com.android.settings"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "home"}, "com.android.launcher3"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "Taobao"}, "com.taobao.taobao"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "back"}, "com.android.launcher3"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, Point: &cpv1.Point{X: 10, Y: 1000}}, ""},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: &cpv1.Point{X: 540, Y: 1800}, End: &cpv1.Point{X: 540, Y: 600}, DurationMs: 10}, ""},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LONG_PRESS, Point: &cpv1.Point{X: 10, Y: 1000}, DurationMs: 10}, ""},
	}
	for i, s := range steps {
		if _, err := android.Act(ctx, dev, s.a, &cpv1.ScreenSize{Width: 1080, Height: 2400}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := d.Phone.State().CurrentApp; s.want != "" && got != s.want {
			t.Errorf("step %d (%v): current app %q, want %q", i, s.a.GetType(), got, s.want)
		}
	}
}

func TestHealthAndWaitBoot(t *testing.T) {
	d, dev := startPhone(t, func(o *fleet.Options) { o.Faults.RebootFor = 300 * time.Millisecond })
	ctx := ctx10(t)
	h, err := android.Health(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"boot_completed": "1", "battery": "85", "screen_on": "true", "wakefulness": "Awake"}
	for k, v := range want {
		if h.GetDetail()[k] != v {
			t.Errorf("detail[%s] = %q, want %q (all: %v)", k, h.GetDetail()[k], v, h.GetDetail())
		}
	}
	if !h.GetOk() {
		t.Errorf("not ok: %v", h)
	}
	d.Phone.Reboot()
	if h, err := android.Health(ctx, dev); err != nil || h.GetOk() {
		t.Errorf("health while booting: %v %v", h, err)
	}
	start := time.Now()
	if err := android.WaitBoot(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if !d.Phone.State().Booted {
		t.Error("WaitBoot returned before the boot completed")
	}
	t.Logf("boot waited %v", time.Since(start).Round(time.Millisecond))
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	d.Phone.Reboot()
	if err := android.WaitBoot(short, dev); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitBoot past its deadline: %v", err)
	}
}

// TestReconnect: a dropped connection fails the call in flight; the next
// observation redials.
func TestReconnect(t *testing.T) {
	d, dev := startPhone(t)
	ctx := ctx10(t)
	if _, err := android.Observe(ctx, dev, android.ObserveOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Phone.InjectFault(phone.FaultDrop)
	_, _ = android.Observe(ctx, dev, android.ObserveOptions{SkipScreenshot: true, SkipUI: true})
	var err error
	for range 3 {
		if _, err = android.Observe(ctx, dev, android.ObserveOptions{}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("observe after a drop: %v", err)
	}
}

func TestSizeCache(t *testing.T) {
	_, dev := startPhone(t)
	ctx := ctx10(t)
	var c android.SizeCache
	if c.Peek("a") != nil {
		t.Fatal("empty cache has a size")
	}
	s, err := c.Get(ctx, "a", dev)
	if err != nil || fmt.Sprint(s.GetWidth(), s.GetHeight()) != "1080 2400" || c.Peek("a") == nil {
		t.Fatalf("Get: %v %v", s, err)
	}
	c.Forget("a")
	if c.Peek("a") != nil {
		t.Fatal("Forget kept the size")
	}
}

func TestDumpUITTY(t *testing.T) {
	_, dev := startPhone(t)
	ctx := ctx10(t)
	tty, err := android.DumpUI(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	file, err := android.DumpUITTY(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if tty != file {
		t.Errorf("the two dumps differ:\n%.200s\n%.200s", tty, file)
	}
	obs, err := android.Observe(ctx, dev, android.ObserveOptions{UIDumpTTY: true, SkipScreenshot: true})
	if err != nil || obs.GetUiXml() != file {
		t.Errorf("Observe with UIDumpTTY: %v", err)
	}
	if out, _, _, err := dev.Shell(ctx, "ls /data/local/tmp"); err != nil || strings.Contains(string(out), "cloudphone-ui") {
		t.Errorf("dump files left behind: %q %v", out, err)
	}
}
