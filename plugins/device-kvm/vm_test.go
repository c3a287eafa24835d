package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	if guestDir != "" {
		_ = os.RemoveAll(guestDir)
	}
	os.Exit(code)
}

// testLog sends the backend's logs to the test log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// guestConfig is the settings section that boots the test guest, with
// its VMs under stateDir and a small raw base image under it.
func guestConfig(t *testing.T, g guestAssets, stateDir string) string {
	t.Helper()
	base := filepath.Join(filepath.Dir(stateDir), "base.img")
	if _, err := os.Stat(base); err != nil {
		if out, err := exec.Command(defaultQEMUImg, "create", "-q", "-f", "raw", base, "16M").CombinedOutput(); err != nil {
			t.Fatalf("create base image: %v: %s", err, out)
		}
	}
	b, err := json.Marshal(map[string]any{
		"base_image": base, "kernel": g.kernel, "initrd": g.initrd,
		"append": "console=ttyS0 quiet panic=-1", "extra_args": []string{"-no-reboot"},
		"memory_mib": 256, "cpus": 1, "adb_port": guestADBPort, "state_dir": stateDir,
		"boot_timeout": "3m", "stop_timeout": "5s", "spares": 1, "labels": map[string]string{"guest": "test-linux"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// killQEMUs kills every QEMU whose directory is under stateDir (from the
// pid files QEMU and the plugin write), so that no VM outlives a test,
// whatever it did.
func killQEMUs(t *testing.T, stateDir string) {
	dirs, _ := filepath.Glob(filepath.Join(stateDir, vmDirPrefix+"*"))
	for _, dir := range dirs {
		var pids []int
		if b, err := os.ReadFile(filepath.Join(dir, pidFile)); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				pids = append(pids, p)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, recordFile)); err == nil {
			var r record
			if json.Unmarshal(b, &r) == nil && r.PID > 0 {
				pids = append(pids, r.PID)
			}
		}
		for _, p := range pids {
			if ownsProcess(p, dir) {
				t.Logf("killing leftover qemu pid %d (%s)", p, dir)
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
}

// newGuestBackend returns a configured backend for the test guest whose
// VMs are all killed when the test ends.
func newGuestBackend(t *testing.T) (*backend, string, string) {
	t.Helper()
	g := testGuest(t)
	stateDir := filepath.Join(t.TempDir(), "vms")
	cfg := guestConfig(t, g, stateDir)
	b := newBackend(testLog(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := b.stopAll(ctx); err != nil {
			t.Errorf("stop vms: %v", err)
		}
		killQEMUs(t, stateDir)
	})
	if err := b.Configure(context.Background(), []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	return b, stateDir, cfg
}

// processRuns reports whether pid exists and is not a zombie (an
// adopted QEMU's parent may be an init that reaps late).
func processRuns(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// boundsRE matches a node's text and bounds in a uiautomator dump.
var boundsRE = regexp.MustCompile(`text="([^"]*)"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"`)

// centerOf finds the node whose text is text in a UI dump and returns
// the centre of its bounds.
func centerOf(xml, text string) (*cpv1.Point, bool) {
	for _, m := range boundsRE.FindAllStringSubmatch(xml, -1) {
		if m[1] != text {
			continue
		}
		n := make([]int, 4)
		for i := range n {
			n[i], _ = strconv.Atoi(m[i+2])
		}
		return &cpv1.Point{X: int32((n[0] + n[2]) / 2), Y: int32((n[1] + n[3]) / 2)}, true
	}
	return nil, false
}

// TestRealVM boots the test guest once, under KVM when /dev/kvm is
// usable and TCG otherwise, and drives it through everything the plugin
// does. The built plugin provisions the VM and exits; an in-process
// backend on the same state_dir adopts it (as a restarted plugin would)
// and uses it: adb through the forwarded port, observe, a tap, QMP, a
// snapshot that resets the phone, the conformance suite on the built
// plugin (which adopts it again) and release.
func TestRealVM(t *testing.T) {
	b, stateDir, cfg := newGuestBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	p, err := procrt.Load(ctx, pluginbuild.GoBinary(t, ".", ""), procrt.Options{Logger: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	dev, err := p.Provision(ctx, &cpv1.ProvisionRequest{Labels: map[string]string{"pool": "test"}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Logf("provisioned %s at %s in %s (accel %s)", dev.GetId(), dev.GetAdbAddress(),
		time.Since(start).Round(time.Millisecond), dev.GetLabels()["accel"])
	id := dev.GetId()
	if dev.GetLabels()["pool"] != "test" || dev.GetLabels()["guest"] != "test-linux" || dev.GetLabels()["backend"] != "kvm" {
		t.Errorf("labels %v lack pool=test, guest=test-linux, backend=kvm", dev.GetLabels())
	}
	if !dev.GetProvisioned() || dev.GetState() != cpv1.DeviceState_DEVICE_STATE_READY {
		t.Errorf("device %v: want provisioned and ready", dev)
	}
	p.Close(ctx) // the VM outlives the plugin process

	// A fresh backend on the same state_dir adopts the running VM.
	b.mu.Lock()
	b.configured = false
	b.mu.Unlock()
	if err := b.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	v, err := b.vm(ctx, id)
	if err != nil {
		t.Fatalf("the vm did not survive the plugin process or was not adopted: %v", err)
	}
	if list, err := b.List(ctx, &cpv1.ListRequest{}); err != nil || len(list.GetDevices()) != 1 || list.GetDevices()[0].GetLabels()["pool"] != "test" {
		t.Fatalf("List after adoption: %v, %v", list, err)
	}

	t.Run("adb through the forwarded port", func(t *testing.T) {
		host, portStr, err := net.SplitHostPort(dev.GetAdbAddress())
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(portStr)
		if host != "127.0.0.1" || (port >= emulatorPortMin && port <= emulatorPortMax) {
			t.Errorf("adb address %s: want 127.0.0.1 and a port outside 5555–5585", dev.GetAdbAddress())
		}
		c, err := adb.Dial(ctx, dev.GetAdbAddress(), nil)
		if err != nil {
			t.Fatalf("adb.Dial(%s): %v", dev.GetAdbAddress(), err)
		}
		defer c.Close()
		out, _, code, err := c.Shell(ctx, "getprop sys.boot_completed")
		if err != nil || code != 0 || strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("getprop sys.boot_completed: %q, exit %d, %v", out, code, err)
		}
		// The answer comes from inside the VM: the guest kernel's
		// view of the phone's address is the user network's.
		sh, err := b.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "echo hello from the vm"})
		if err != nil || strings.TrimSpace(string(sh.GetStdout())) != "hello from the vm" {
			t.Fatalf("Shell: %q, %v", sh.GetStdout(), err)
		}
	})

	var launcherXML string
	t.Run("observe", func(t *testing.T) {
		obs, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
		if err != nil {
			t.Fatalf("Observe: %v", err)
		}
		if !bytes.HasPrefix(obs.GetScreenshotPng(), []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("screenshot is not a PNG (%d bytes)", len(obs.GetScreenshotPng()))
		}
		if obs.GetScreen().GetWidth() <= 0 || !strings.Contains(obs.GetUiXml(), "</hierarchy>") {
			t.Errorf("observation: screen %v, ui %d bytes", obs.GetScreen(), len(obs.GetUiXml()))
		}
		if !strings.Contains(obs.GetCurrentApp(), "launcher") {
			t.Errorf("current app %q, want the launcher", obs.GetCurrentApp())
		}
		launcherXML = obs.GetUiXml()
	})

	t.Run("qmp query-status", func(t *testing.T) {
		st, err := v.status(ctx)
		if err != nil || !st.Running || st.Status != "running" {
			t.Fatalf("query-status: %+v, %v", st, err)
		}
		h, err := b.Health(ctx, &cpv1.HealthRequest{DeviceId: id})
		if err != nil || !h.GetOk() || h.GetDetail()["vm_status"] != "running" || h.GetDetail()["boot_completed"] != "1" {
			t.Fatalf("Health: %v, %v", h, err)
		}
	})

	t.Run("tap, snapshot save and load", func(t *testing.T) {
		pt, ok := centerOf(launcherXML, "设置")
		if !ok {
			t.Fatalf("no 设置 icon in the launcher's UI dump:\n%.2000s", launcherXML)
		}
		t0 := time.Now()
		if err := b.SaveSnapshot(ctx, id, "clean"); err != nil {
			t.Fatalf("SaveSnapshot: %v", err)
		}
		t.Logf("savevm took %s", time.Since(t0).Round(time.Millisecond))
		if _, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: pt}}); err != nil {
			t.Fatalf("Act tap %v: %v", pt, err)
		}
		obs, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
		if err != nil || obs.GetCurrentApp() != "com.android.settings" {
			t.Fatalf("after tapping 设置: current app %q, %v", obs.GetCurrentApp(), err)
		}
		t0 = time.Now()
		if err := b.LoadSnapshot(ctx, id, "clean"); err != nil {
			t.Fatalf("LoadSnapshot: %v", err)
		}
		obs, err = b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
		if err != nil || !strings.Contains(obs.GetCurrentApp(), "launcher") {
			t.Fatalf("after loadvm: current app %q, %v (want the launcher again)", obs.GetCurrentApp(), err)
		}
		t.Logf("loadvm and the next observe took %s", time.Since(t0).Round(time.Millisecond))
		if err := b.LoadSnapshot(ctx, id, "no-such-snapshot"); err == nil {
			t.Error("LoadSnapshot of a missing snapshot succeeded")
		}
		if names, err := v.snapshots(ctx); err != nil || !slices.Equal(names, []string{"clean", bootSnapshot}) {
			t.Errorf("snapshots: %v, %v; want [clean %s]", names, err, bootSnapshot)
		}
		// A failed load must leave the VM running and reachable anew.
		if st, err := v.status(ctx); err != nil || !st.Running {
			t.Errorf("after a failed load: %+v, %v", st, err)
		}
		if err := b.SaveSnapshot(ctx, id, "bad name;quit"); err == nil {
			t.Error("SaveSnapshot accepted a name with a ';'")
		}
	})

	t.Run("conformance on the built plugin", func(t *testing.T) {
		// The plugin process finds the running VM in state_dir and
		// adopts it; it leaves it running when it exits.
		plugintest.Device(t, pluginbuild.GoBinary(t, ".", ""), plugintest.WithConfig(cfg),
			plugintest.WithConcurrency(8, 10), plugintest.WithLogger(testLog(t)))
		if !v.alive() {
			t.Fatal("the plugin process stopped a vm it adopted when it exited")
		}
		if t.Failed() {
			t.Logf("guest console:\n%s", v.tail(consoleFile, 4000))
		}
	})

	t.Run("release keeps a spare, provision takes it reset", func(t *testing.T) {
		if _, err := b.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.tencent.mm"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Release(ctx, &cpv1.ReleaseRequest{DeviceId: id}); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if !v.alive() {
			t.Fatal("a released vm was stopped although spares is 1")
		}
		if list, err := b.List(ctx, &cpv1.ListRequest{}); err != nil || len(list.GetDevices()) != 0 {
			t.Errorf("List lists a spare: %v, %v", list, err)
		}
		if _, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id}); status.Code(err) != codes.NotFound {
			t.Errorf("Observe of a spare: %v, want NotFound", err)
		}
		t0 := time.Now()
		dev2, err := b.Provision(ctx, &cpv1.ProvisionRequest{Labels: map[string]string{"pool": "second"}})
		if err != nil {
			t.Fatalf("Provision: %v", err)
		}
		t.Logf("provision from a spare took %s", time.Since(t0).Round(time.Millisecond))
		if dev2.GetId() != id || dev2.GetLabels()["pool"] != "second" {
			t.Errorf("Provision: %v, want the spare %s with pool=second", dev2, id)
		}
		obs, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
		if err != nil || !strings.Contains(obs.GetCurrentApp(), "launcher") {
			t.Errorf("the spare was not reset to its boot state: current app %q, %v", obs.GetCurrentApp(), err)
		}
	})

	t.Run("release", func(t *testing.T) {
		// No spares now, and a powerdown first: the test guest's init
		// ignores the ACPI button, so Release quits QEMU after
		// stop_timeout.
		last := strings.NewReplacer(`"spares":1`, `"spares":0`, `"stop_timeout":"5s"`, `"stop_timeout":"1s","shutdown":"powerdown"`).Replace(cfg)
		if err := b.Configure(ctx, []byte(last)); err != nil {
			t.Fatal(err)
		}
		pid := v.rec.PID
		t0 := time.Now()
		if _, err := b.Release(ctx, &cpv1.ReleaseRequest{DeviceId: id}); err != nil {
			t.Fatalf("Release: %v", err)
		}
		t.Logf("release (powerdown, then quit) took %s", time.Since(t0).Round(time.Millisecond))
		if processRuns(pid) {
			t.Errorf("qemu pid %d still runs after Release", pid)
		}
		if _, err := os.Stat(v.dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("vm dir %s still exists after Release: %v", v.dir, err)
		}
		list, err := b.List(ctx, &cpv1.ListRequest{})
		if err != nil || len(list.GetDevices()) != 0 {
			t.Errorf("List after Release: %v, %v", list, err)
		}
		if _, err := b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id}); err == nil {
			t.Error("Observe of a released vm succeeded")
		}
		ents, _ := os.ReadDir(stateDir)
		if len(ents) != 0 {
			t.Errorf("state dir not empty after Release: %v", ents)
		}
	})
}
