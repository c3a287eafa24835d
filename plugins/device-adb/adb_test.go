package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var boundsRE = regexp.MustCompile(`\[(\d+),(\d+)\]\[(\d+),(\d+)\]`)

// center finds the node whose text is label in a uiautomator dump and
// returns the centre of its bounds.
func center(t testing.TB, xml, label string) *cpv1.Point {
	t.Helper()
	for _, node := range strings.Split(xml, "<node ") {
		if !strings.Contains(node, `text="`+label+`"`) {
			continue
		}
		i := strings.Index(node, `bounds="`)
		if m := boundsRE.FindStringSubmatch(node[max(i, 0):]); i >= 0 && m != nil {
			n := make([]int, 4)
			for j := range n {
				n[j], _ = strconv.Atoi(m[j+1])
			}
			return &cpv1.Point{X: int32((n[0] + n[2]) / 2), Y: int32((n[1] + n[3]) / 2)}
		}
	}
	t.Fatalf("no node %q in the UI dump", label)
	return nil
}

// drive checks one phone through the plugin: observe, tap the 微信 icon,
// open a chat and type Chinese through the ADB Keyboard, then health.
func drive(t *testing.T, b *backend, id string, d *fleet.Device) {
	t.Helper()
	ctx := ctx30(t)
	obs, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if !strings.HasPrefix(string(obs.GetScreenshotPng()), "\x89PNG\r\n\x1a\n") || len(obs.GetScreenshotSha256()) != 64 {
		t.Errorf("screenshot: %d bytes", len(obs.GetScreenshotPng()))
	}
	if !strings.HasPrefix(obs.GetUiXml(), "<?xml") || !strings.Contains(obs.GetUiXml(), "<hierarchy") {
		t.Errorf("UI XML: %.60q", obs.GetUiXml())
	}
	if obs.GetCurrentApp() != "com.android.launcher3" || obs.GetScreen().GetWidth() != 1080 || obs.GetScreen().GetHeight() != 2400 {
		t.Errorf("observe: app %q, screen %v", obs.GetCurrentApp(), obs.GetScreen())
	}
	act := func(a *cpv1.Action) *cpv1.ActResponse {
		t.Helper()
		r, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: a})
		if err != nil {
			t.Fatalf("Act(%v): %v", a, err)
		}
		return r
	}
	act(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: center(t, obs.GetUiXml(), "微信")})
	obs, err = b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
	if err != nil || obs.GetCurrentApp() != "com.tencent.mm" || obs.GetCurrentAppName() != "微信" {
		t.Fatalf("after tapping 微信: %q %q, %v", obs.GetCurrentApp(), obs.GetCurrentAppName(), err)
	}
	act(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 300, Y: 560}})  // a chat
	act(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 500, Y: 2180}}) // its text field
	r := act(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "你好，世界", ClearText: true})
	if !strings.Contains(r.GetMessage(), "ADB_INPUT_B64") {
		t.Errorf("type went through %q", r.GetMessage())
	}
	if got := d.Phone.State().Keyboard.Text; got != "你好，世界" {
		t.Errorf("typed %q", got)
	}
	h, err := b.Health(ctx, &cpv1.HealthRequest{DeviceId: id})
	if err != nil || !h.GetOk() || h.GetDetail()["battery"] != "85" || h.GetDetail()["screen_on"] != "true" {
		t.Errorf("Health: %v, %v", h, err)
	}
	sh, err := b.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "getprop ro.serialno"})
	if err != nil || strings.TrimSpace(string(sh.GetStdout())) != d.Serial || sh.GetExitCode() != 0 {
		t.Errorf("Shell: %v, %v", sh, err)
	}
}

// TestDirect: phones at configured addresses, on persistent connections.
func TestDirect(t *testing.T) {
	f := startFleet(t, 2)
	devs := f.Devices()
	cfg := directConfig(t, devs[0].Serial, devs[1].Serial)
	b := newTestBackend(t, cfg)
	key, _ := parseConfig([]byte(cfg))
	if _, err := os.Stat(key.keyPath + ".pub"); err != nil {
		t.Errorf("adb_key was not created: %v", err)
	}
	list, status := listed(t, b)
	if len(list) != 2 || status != "" {
		t.Fatalf("List: %v %q", list, status)
	}
	info := list[devs[0].Serial]
	want := map[string]string{"backend": "adb", "transport": "direct", "model": "CloudPhone 1", "android": "14", "resolution": "1080x2400"}
	for k, v := range want {
		if info.GetLabels()[k] != v {
			t.Errorf("label %s = %q, want %q (%v)", k, info.GetLabels()[k], v, info.GetLabels())
		}
	}
	if info.GetState() != cpv1.DeviceState_DEVICE_STATE_READY || info.GetAdbAddress() != devs[0].Serial || info.GetProvisioned() {
		t.Errorf("info %v", info)
	}
	drive(t, b, devs[0].Serial, devs[0])
	if n := devs[0].Conns(); n != 1 {
		t.Errorf("phone has %d connections from the plugin, want 1 persistent one", n)
	}
}

// TestServer: phones the real adb server knows, found by track-devices.
func TestServer(t *testing.T) {
	s := startADB(t, 0)
	f := startFleet(t, 2)
	devs := f.Devices()
	b := newTestBackend(t, `{"adb_server": "`+s.Addr()+`"}`)
	for _, d := range devs {
		s.connect(t, d.Serial)
	}
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		list, status := listed(t, b)
		for _, d := range devs {
			info := list[d.Serial]
			if info.GetState() != cpv1.DeviceState_DEVICE_STATE_READY || info.GetLabels()["transport"] != "server" || info.GetLabels()["model"] != "CloudPhone 1" {
				return fmt.Errorf("%s not ready via the server: %v (status %q)", d.Serial, info, status)
			}
		}
		return nil
	})
	drive(t, b, devs[0].Serial, devs[0])
	if out, _ := s.Run(t, "disconnect", devs[1].Serial); !strings.Contains(out, "disconnected") {
		t.Fatalf("adb disconnect: %q", out)
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if list, _ := listed(t, b); list[devs[1].Serial] != nil {
			return fmt.Errorf("%s still listed after adb disconnect", devs[1].Serial)
		}
		return nil
	})

	// A phone that does not accept the server's key: UNHEALTHY.
	stranger := startFleet(t, 1, func(o *fleet.Options) { o.Auth = adbd.NewAuth() }).Devices()[0]
	_, _ = s.Run(t, "connect", stranger.Serial)
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		list, _ := listed(t, b)
		if info := list[stranger.Serial]; info.GetState() != cpv1.DeviceState_DEVICE_STATE_UNHEALTHY || info.GetLabels()["adb_state"] != "unauthorized" {
			return fmt.Errorf("unauthorized phone listed as %v", info)
		}
		return nil
	})
	if _, err := b.Observe(ctx30(t), &cpv1.ObserveRequest{DeviceId: stranger.Serial}); status.Code(err) != codes.Unavailable {
		t.Errorf("Observe of an unauthorized phone: %v, want Unavailable", err)
	}
}

// TestNoServer: no adb server answering is a backend status, not a
// failure, and a server that starts later is picked up.
func TestNoServer(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	b := newTestBackend(t, `{"adb_server": "`+addr+`"}`)
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if list, st := listed(t, b); len(list) != 0 || !strings.Contains(st, "not reachable") {
			return fmt.Errorf("List: %v, status %q", list, st)
		}
		return nil
	})
	h, err := b.Health(ctx30(t), &cpv1.HealthRequest{})
	if err != nil || !h.GetOk() || h.GetDetail()["adb_server_status"] == "" {
		t.Errorf("backend health: %v %v", h, err)
	}
	s := startADB(t, port)
	f := startFleet(t, 1)
	s.connect(t, f.Devices()[0].Serial)
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		if list, st := listed(t, b); len(list) != 1 || st != "" {
			return fmt.Errorf("List after the server started: %v, status %q", list, st)
		}
		return nil
	})
}

// TestReconnect: the phone drops the plugin's connection; the call in
// flight fails as Unavailable (or, when the drop came before the stream
// opened, is retried on a new connection) and the next one redials.
func TestReconnect(t *testing.T) {
	f := startFleet(t, 1)
	d := f.Devices()[0]
	b := newTestBackend(t, directConfig(t, d.Serial))
	ctx := ctx30(t)
	if _, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial}); err != nil {
		t.Fatal(err)
	}
	d.Phone.InjectFault(phone.FaultDrop)
	_, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial, SkipScreenshot: true, SkipUi: true})
	if err != nil && status.Code(err) != codes.Unavailable {
		t.Errorf("observe across a drop: %v, want Unavailable", err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		_, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial})
		return err
	})
	if _, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: d.Serial, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "设置"}}); err != nil {
		t.Fatal(err)
	}
	if app := d.Phone.State().CurrentApp; app != "com.android.settings" {
		t.Errorf("current app %q after reconnecting", app)
	}
	list, _ := listed(t, b)
	if list[d.Serial].GetState() != cpv1.DeviceState_DEVICE_STATE_READY {
		t.Errorf("after reconnect: %v", list[d.Serial])
	}
}

// TestOffline: an address nobody listens on is listed OFFLINE.
func TestOffline(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	b := newTestBackend(t, directConfig(t, addr))
	list, _ := listed(t, b)
	if list[addr].GetState() != cpv1.DeviceState_DEVICE_STATE_OFFLINE {
		t.Errorf("dead address: %v", list[addr])
	}
	_, err := b.Observe(ctx30(t), &cpv1.ObserveRequest{DeviceId: addr})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Observe of a dead address: %v, want Unavailable", err)
	}
}

func TestContractErrors(t *testing.T) {
	f := startFleet(t, 1)
	id := f.Devices()[0].Serial
	b := newTestBackend(t, directConfig(t, id))
	ctx := ctx30(t)
	if _, err := b.Provision(ctx, &cpv1.ProvisionRequest{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Provision: %v, want ErrUnsupported", err)
	}
	if _, err := b.Release(ctx, &cpv1.ReleaseRequest{DeviceId: id}); err != nil {
		t.Errorf("Release of a known phone: %v", err)
	}
	if _, err := b.Release(ctx, &cpv1.ReleaseRequest{DeviceId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("Release of an unknown phone: %v", err)
	}
	for _, a := range []*cpv1.Action{nil, {}, {Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 5000, Y: 1}}, {Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "x"}} {
		if _, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: a}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("Act(%v): %v, want InvalidArgument", a, err)
		}
	}
	if _, err := b.Observe(ctx, &cpv1.ObserveRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("Observe without id: %v", err)
	}
	sh, err := b.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "sleep 5", TimeoutMs: 50})
	if err == nil {
		t.Errorf("shell past its timeout: %v", sh)
	}
}

// TestConfigureLive: addresses, labels and the key apply without a
// restart; bad settings are refused and the old ones stay.
func TestConfigureLive(t *testing.T) {
	f := startFleet(t, 2)
	devs := f.Devices()
	b := newTestBackend(t, directConfig(t, devs[0].Serial))
	if list, _ := listed(t, b); len(list) != 1 {
		t.Fatalf("one address: %v", list)
	}
	cfg := strings.Replace(directConfig(t, devs[0].Serial, devs[1].Serial), `"adb_server"`, `"labels": {"region": "lab"}, "adb_server"`, 1)
	if err := b.Configure(context.Background(), []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	list, _ := listed(t, b)
	if len(list) != 2 || list[devs[1].Serial].GetLabels()["region"] != "lab" {
		t.Fatalf("two addresses with labels: %v", list)
	}
	for _, bad := range []string{`{"bogus": 1}`, `{"addresses": ["nohost"]}`, `{"adb_server": "x:0"}`, `{"connect_timeout": "soon"}`, `[`} {
		if err := b.Configure(context.Background(), []byte(bad)); err == nil {
			t.Errorf("Configure(%s) accepted", bad)
		}
	}
	if list, _ := listed(t, b); len(list) != 2 {
		t.Errorf("a refused config changed the devices: %v", list)
	}
	if err := b.Configure(context.Background(), []byte(directConfig(t))); err != nil {
		t.Fatal(err)
	}
	if list, _ := listed(t, b); len(list) != 0 {
		t.Errorf("no addresses: %v", list)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := devs[0].Conns() + devs[1].Conns(); n != 0 {
			return fmt.Errorf("%d connections left open after the addresses were removed", n)
		}
		return nil
	})
}

// TestPhoneRestart: the phone goes away entirely (its adbd stops) and
// comes back on the same address: the plugin shows it OFFLINE, then
// redials and serves it again.
func TestPhoneRestart(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	start := func() *fleet.Fleet {
		f, err := fleet.Start(context.Background(), fleet.Options{Count: 1, Listen: addr, Logger: quietLog})
		if err != nil {
			t.Fatalf("start phone at %s: %v", addr, err)
		}
		t.Cleanup(f.Close)
		return f
	}
	f := start()
	b := newTestBackend(t, directConfig(t, addr))
	ctx := ctx30(t)
	if _, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: addr}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: addr}); status.Code(err) != codes.Unavailable {
		t.Errorf("Observe of a stopped phone: %v, want Unavailable", err)
	}
	if list, _ := listed(t, b); list[addr].GetState() != cpv1.DeviceState_DEVICE_STATE_OFFLINE {
		t.Errorf("stopped phone listed as %v", list[addr])
	}
	start()
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		_, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: addr})
		return err
	})
	if list, _ := listed(t, b); list[addr].GetState() != cpv1.DeviceState_DEVICE_STATE_READY {
		t.Errorf("restarted phone listed as %v", list[addr])
	}
}

// TestSilentPhone: an address that accepts TCP but never answers adb's
// handshake is OFFLINE after connect_timeout, and the next List does not
// wait for it again.
func TestSilentPhone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	var dials atomic.Int32
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			conns = append(conns, c) // held open, never answered
		}
	}()
	addr := ln.Addr().String()
	cfg := strings.Replace(directConfig(t, addr), `"adb_server"`, `"connect_timeout": "300ms", "adb_server"`, 1)
	b := newTestBackend(t, cfg)
	start := time.Now()
	list, _ := listed(t, b)
	if list[addr].GetState() != cpv1.DeviceState_DEVICE_STATE_OFFLINE || time.Since(start) < 250*time.Millisecond {
		t.Errorf("silent phone: %v after %v", list[addr], time.Since(start))
	}
	before := dials.Load()
	list, _ = listed(t, b)
	if list[addr].GetState() != cpv1.DeviceState_DEVICE_STATE_OFFLINE || dials.Load() != before {
		t.Errorf("second List: %v, %d new dials (should not dial again yet)", list[addr], dials.Load()-before)
	}
}

// TestManyPhones drives 10 phones at once through one plugin, each on its
// own persistent connection.
func TestManyPhones(t *testing.T) {
	const n = 10
	f := startFleet(t, n)
	var addrs []string
	for _, d := range f.Devices() {
		addrs = append(addrs, d.Serial)
	}
	b := newTestBackend(t, directConfig(t, addrs...))
	ctx := ctx30(t)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for _, d := range f.Devices() {
		wg.Go(func() {
			if _, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: d.Serial, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "淘宝"}}); err != nil {
				errs <- err
				return
			}
			obs, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial})
			if err != nil || obs.GetCurrentApp() != "com.taobao.taobao" || len(obs.GetScreenshotPng()) == 0 {
				errs <- fmt.Errorf("%s: app %q, %v", d.Serial, obs.GetCurrentApp(), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, _ := listed(t, b)
	for _, d := range f.Devices() {
		if list[d.Serial].GetState() != cpv1.DeviceState_DEVICE_STATE_READY || d.Conns() != 1 {
			t.Errorf("%s: %v, %d connections", d.Serial, list[d.Serial].GetState(), d.Conns())
		}
	}
}
