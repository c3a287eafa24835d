package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var quietLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// newTestSim is a configured plugin, in process, stopped at cleanup.
func newTestSim(t *testing.T, config string) (*sim, string) {
	t.Helper()
	s := newSim(quietLog)
	t.Cleanup(s.Close)
	if err := s.Configure(context.Background(), []byte(config)); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(context.Background(), &cpv1.ListRequest{})
	if err != nil || len(list.GetDevices()) == 0 {
		t.Fatalf("List: %v %v", list, err)
	}
	return s, list.GetDevices()[0].GetId()
}

func act(t *testing.T, s *sim, id string, a *cpv1.Action) *cpv1.ActResponse {
	t.Helper()
	r, err := s.Act(context.Background(), &cpv1.ActRequest{DeviceId: id, Action: a})
	if err != nil {
		t.Fatalf("Act(%v): %v", a, err)
	}
	return r
}

func TestActCommands(t *testing.T) {
	const w, h = 1080, 2400
	pt := func(x, y int32) *cpv1.Point { return &cpv1.Point{X: x, Y: y} }
	cases := []struct {
		a    *cpv1.Action
		want string
	}{
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: pt(1108%w, 98)}, "input tap 28 98"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, Point: pt(10, 20)}, "input tap 10 20|input tap 10 20"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LONG_PRESS, Point: pt(10, 20)}, "input swipe 10 20 10 20 3000"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LONG_PRESS, Point: pt(10, 20), DurationMs: 800}, "input swipe 10 20 10 20 800"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: pt(500, 1800), End: pt(500, 600)}, "input swipe 500 1800 500 600 1440"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: pt(500, 1800), End: pt(500, 1790)}, "input swipe 500 1800 500 1790 1000"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: pt(0, 2399), End: pt(1079, 0), DurationMs: 300}, "input swipe 0 2399 1079 0 300"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "咖啡", ClearText: true}, "am broadcast -a ADB_CLEAR_TEXT|am broadcast -a ADB_INPUT_B64 --es msg 5ZKW5ZWh"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "back"}, "input keyevent 4"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "home"}, "input keyevent KEYCODE_HOME"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "enter"}, "input keyevent KEYCODE_ENTER"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "delete"}, "input keyevent KEYCODE_DEL"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "app_switch"}, "input keyevent KEYCODE_APP_SWITCH"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "keycode_volume_up"}, "input keyevent KEYCODE_VOLUME_UP"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.tencent.mm", App: "微信"}, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "美团"}, "monkey -p com.sankuai.meituan -c android.intent.category.LAUNCHER 1"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_NOTE, Message: "x"}, ""},
	}
	for _, c := range cases {
		got, err := actCommands(c.a, w, h)
		if err != nil {
			t.Errorf("%v: %v", c.a, err)
			continue
		}
		if s := strings.Join(got, "|"); s != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.a, s, c.want)
		}
	}
	bad := []*cpv1.Action{
		{},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: pt(-1, 5)},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: pt(1080, 5)},
		{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: pt(1, 5)},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "frobnicate"},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "KEYCODE_HOME; reboot"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.x; reboot"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "无此应用"},
		{Type: 99},
	}
	for _, a := range bad {
		if cmds, err := actCommands(a, w, h); err == nil {
			t.Errorf("%v: accepted as %q", a, cmds)
		}
	}
}

// TestActOnPhone runs actions on an in-process plugin and checks the
// phone's state, as an agent step would.
func TestActOnPhone(t *testing.T) {
	s, id := newTestSim(t, `{"count": 1, "listen": "127.0.0.1:0"}`)
	ctx := context.Background()
	obs, err := s.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
	if err != nil {
		t.Fatal(err)
	}
	if obs.GetCurrentApp() != "com.android.launcher3" || len(obs.GetScreenshotPng()) == 0 || obs.GetScreenshotSha256() == "" {
		t.Fatalf("launcher observation: app %q, %d PNG bytes", obs.GetCurrentApp(), len(obs.GetScreenshotPng()))
	}
	if err := xml.Unmarshal([]byte(obs.GetUiXml()), new(struct{})); err != nil {
		t.Fatalf("ui_xml: %v", err)
	}
	act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "美团"})
	// Tap the search box by its bounds in the dump, then type Chinese.
	obs, err = s.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
	if err != nil || obs.GetCurrentAppName() != "美团" {
		t.Fatalf("after launch: %q %v", obs.GetCurrentAppName(), err)
	}
	x, y := boundsCenter(t, obs.GetUiXml(), "com.sankuai.meituan:id/search_box")
	act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: x, Y: y}})
	r := act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "火锅", ClearText: true})
	if !strings.HasPrefix(r.GetMessage(), "ime set "+adbIME) {
		t.Errorf("first type did not switch the IME: %q", r.GetMessage())
	}
	d, _ := s.device(ctx, id)
	if st := d.Phone.State(); st.Keyboard.Text != "火锅" {
		t.Fatalf("typed text: %+v", st.Keyboard)
	}
	r = act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "咖啡", ClearText: true})
	if strings.Contains(r.GetMessage(), "ime set") {
		t.Errorf("second type switched the IME again: %q", r.GetMessage())
	}
	if st := d.Phone.State(); st.Keyboard.Text != "咖啡" {
		t.Fatalf("typed text after clear: %+v", st.Keyboard)
	}
	act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "home"})
	if st := d.Phone.State(); st.CurrentApp != "com.android.launcher3" {
		t.Fatalf("after home: %s", st.CurrentApp)
	}
	// Wait honours its duration and the context.
	start := time.Now()
	act(t, s, id, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT, DurationMs: 30})
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("wait 30 ms took %s", d)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := s.Act(wctx, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT, DurationMs: 60000}}); err == nil {
		t.Error("a 60 s wait outlived its 20 ms context")
	}
	// Errors: unknown device, untyped action.
	_, err = s.Act(ctx, &cpv1.ActRequest{DeviceId: "127.0.0.1:1", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_NOTE}})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := s.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("untyped action: %v", err)
	}
	// Shell and health.
	sh, err := s.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "false"})
	if err != nil || sh.GetExitCode() != 1 {
		t.Errorf("shell false: %v %v", sh, err)
	}
	hr, err := s.Health(ctx, &cpv1.HealthRequest{DeviceId: id})
	if err != nil || !hr.GetOk() || hr.GetDetail()["boot_completed"] != "1" {
		t.Errorf("health: %v %v", hr, err)
	}
}

func boundsCenter(t *testing.T, ui, id string) (int32, int32) {
	t.Helper()
	i := strings.Index(ui, `resource-id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no %s in the dump", id)
	}
	rest := ui[i:]
	j := strings.Index(rest, `bounds="`)
	var l, tp, r, b int32
	if _, err := fmt.Sscanf(rest[j+len(`bounds="`):], "[%d,%d][%d,%d]", &l, &tp, &r, &b); err != nil {
		t.Fatalf("bounds of %s: %v", id, err)
	}
	return (l + r) / 2, (tp + b) / 2
}

func TestConfigure(t *testing.T) {
	s, _ := newTestSim(t, `{"count": 2, "listen": "127.0.0.1:0", "labels": {"region": "lab"}}`)
	ctx := context.Background()
	list, _ := s.List(ctx, &cpv1.ListRequest{})
	first := list.GetDevices()[0]
	l := first.GetLabels()
	if l["backend"] != "sim" || l["android"] != "14" || l["resolution"] != "1080x2400" || l["model"] == "" || l["region"] != "lab" {
		t.Errorf("labels %v", l)
	}
	if first.GetAdbAddress() != first.GetId() || first.GetState() != cpv1.DeviceState_DEVICE_STATE_READY {
		t.Errorf("device %v", first)
	}
	// count changes live: the first phone keeps running.
	if err := s.Configure(ctx, []byte(`{"count": 3, "listen": "127.0.0.1:0", "labels": {"region": "lab"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.device(ctx, first.GetId()); err != nil {
		t.Errorf("growing the fleet replaced phone %s: %v", first.GetId(), err)
	}
	if list, _ := s.List(ctx, &cpv1.ListRequest{}); len(list.GetDevices()) != 3 {
		t.Errorf("%d phones after count 3", len(list.GetDevices()))
	}
	// A resolution change re-creates the fleet.
	if err := s.Configure(ctx, []byte(`{"count": 1, "listen": "127.0.0.1:0", "width": 720, "height": 1600, "profile": "phone"}`)); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List(ctx, &cpv1.ListRequest{})
	if len(list.GetDevices()) != 1 || list.GetDevices()[0].GetLabels()["resolution"] != "720x1600" || list.GetDevices()[0].GetLabels()["profile"] != "phone" {
		t.Errorf("after re-creating: %v", list.GetDevices())
	}
	// Provision and release.
	dev, err := s.Provision(ctx, &cpv1.ProvisionRequest{})
	if err != nil || !dev.GetProvisioned() {
		t.Fatalf("provision: %v %v", dev, err)
	}
	if _, err := s.Release(ctx, &cpv1.ReleaseRequest{DeviceId: list.GetDevices()[0].GetId()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("releasing a configured phone: %v", err)
	}
	if _, err := s.Release(ctx, &cpv1.ReleaseRequest{DeviceId: dev.GetId()}); err != nil {
		t.Errorf("release: %v", err)
	}
	for _, bad := range []string{
		`{"count": -1}`, `{"listen": "127.0.0.1:5560"}`, `{"profile": "slow"}`, `{"width": 10}`,
		`{"faults": {"drop": 2}}`, `{"faults": {"reboot_for": "soon"}}`, `{"colour": "red"}`, `[1]`,
		`{"adb_keys": "/nonexistent/adb_keys"}`,
	} {
		if err := s.Configure(ctx, []byte(bad)); err == nil {
			t.Errorf("Configure(%s) accepted", bad)
		}
	}
	// The fleet survives refused settings.
	if list, err := s.List(ctx, &cpv1.ListRequest{}); err != nil || len(list.GetDevices()) == 0 {
		t.Errorf("after refused settings: %v %v", list, err)
	}
}

// TestFaultsFromConfig: a configured drop fault makes Observe fail as an
// unavailable device once, then the phone serves again.
func TestFaultsFromConfig(t *testing.T) {
	s, id := newTestSim(t, `{"count": 1, "listen": "127.0.0.1:0",
		"faults": {"seed": 7, "rules": [{"kind": "drop", "match": "screencap", "nth": 1}], "reboot_for": "3s"}}`)
	ctx := context.Background()
	if _, err := s.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id}); status.Code(err) != codes.Unavailable {
		t.Fatalf("first observe with a drop fault: %v", err)
	}
	if _, err := s.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id}); err != nil {
		t.Fatalf("second observe: %v", err)
	}
	// A reboot (3 s, so that a busy machine still asks while it lasts)
	// shows as BOOTING and unhealthy until it is over.
	d, _ := s.device(ctx, id)
	start := time.Now()
	d.Phone.Reboot()
	list, _ := s.List(ctx, &cpv1.ListRequest{})
	if st := list.GetDevices()[0].GetState(); st != cpv1.DeviceState_DEVICE_STATE_BOOTING {
		t.Errorf("state while rebooting: %s", st)
	}
	if h, _ := s.Health(ctx, &cpv1.HealthRequest{DeviceId: id}); h.GetOk() || h.GetDetail()["boot_completed"] != "0" {
		t.Errorf("health while rebooting (%v after the reboot began): %v", time.Since(start), h)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		h, _ := s.Health(ctx, &cpv1.HealthRequest{DeviceId: id})
		if h.GetOk() {
			if since := time.Since(start); since < 3*time.Second {
				t.Errorf("healthy %v after a 3 s reboot began", since)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unhealthy 30 s after a 3 s reboot: %v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
