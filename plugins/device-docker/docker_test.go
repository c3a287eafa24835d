package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupStore()
	pluginbuild.Cleanup()
	os.Exit(code)
}

var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// testConfig is a settings section for the test engine: the sim image,
// the phone on simPort inside the container, its command taking the
// requested resolution, small resource limits.
// edit, when given, changes keys before encoding.
func testConfig(t *testing.T, endpoint, instance string, edit ...func(map[string]any)) string {
	t.Helper()
	c := map[string]any{
		"endpoint": endpoint,
		"image":    testImage,
		"adb_port": simPort,
		"command": []string{"/cloudphone", "sim", "--count", "1", "--listen", "0.0.0.0:{adb_port}",
			"--width", "{width}", "--height", "{height}"},
		"memory_mib":   256,
		"cpus":         1,
		"pull":         "never",
		"instance":     instance,
		"boot_timeout": "60s",
		"labels":       map[string]string{"region": "test"},
		"adb_key":      filepath.Join(t.TempDir(), "adbkey"),
	}
	for _, f := range edit {
		f(c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newTestDocker is a configured plugin, in process, closed at cleanup.
func newTestDocker(t *testing.T, config string) *docker {
	t.Helper()
	d := newDocker(testLog)
	t.Cleanup(d.Close)
	if err := d.Configure(context.Background(), []byte(config)); err != nil {
		t.Fatal(err)
	}
	return d
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func engineClient(t *testing.T, endpoint string) *client.Client {
	t.Helper()
	cli, err := client.New(client.WithHost(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

func launch(pkg string) *cpv1.Action {
	return &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: pkg}
}

// TestProvisionRelease drives one container through its life: provision
// (container running, adb published on 127.0.0.1, labels, limits, the
// requested resolution), adb straight to the phone, observe, act, shell,
// health, release (container gone).
func TestProvisionRelease(t *testing.T) {
	pm := startPodman(t)
	ctx := testCtx(t, 3*time.Minute)
	d := newTestDocker(t, testConfig(t, pm.endpoint, "provision"))

	start := time.Now()
	info, err := d.Provision(ctx, &cpv1.ProvisionRequest{
		Labels:  map[string]string{"pool": "a"},
		Options: map[string]string{"resolution": "540x960", "memory_mib": "300"},
	})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Logf("provisioned %s at %s in %s", info.GetId(), info.GetAdbAddress(), time.Since(start).Round(time.Millisecond))
	if info.GetState() != cpv1.DeviceState_DEVICE_STATE_READY || !info.GetProvisioned() {
		t.Errorf("Provision: state %s, provisioned %v", info.GetState(), info.GetProvisioned())
	}
	for k, want := range map[string]string{"pool": "a", "region": "test", "backend": "docker", "resolution": "540x960"} {
		if got := info.GetLabels()[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	host, portText, err := net.SplitHostPort(info.GetAdbAddress())
	port, _ := strconv.Atoi(portText)
	if err != nil || host != "127.0.0.1" || port == 0 || inEmulatorRange(port) {
		t.Fatalf("adb address %q: want 127.0.0.1 and a port outside 5555–5585", info.GetAdbAddress())
	}

	// The engine's view of the container.
	cli := engineClient(t, pm.endpoint)
	res, err := cli.ContainerInspect(ctx, info.GetId(), client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", info.GetId(), err)
	}
	c := res.Container
	if c.State == nil || !c.State.Running {
		t.Errorf("container state %+v, want running", c.State)
	}
	if c.Config.Labels[labelManaged] != "true" || c.Config.Labels[labelDevice] != info.GetId() || c.Config.Labels[labelUserPfx+"pool"] != "a" {
		t.Errorf("container labels %v", c.Config.Labels)
	}
	if !c.HostConfig.Privileged {
		t.Error("container is not privileged (redroid needs it; the default)")
	}
	if c.HostConfig.Memory != 300<<20 || c.HostConfig.NanoCPUs != 1e9 {
		t.Errorf("limits: memory %d, nano cpus %d; want %d, %d", c.HostConfig.Memory, c.HostConfig.NanoCPUs, 300<<20, int64(1e9))
	}
	for p, bs := range c.NetworkSettings.Ports {
		for _, b := range bs {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("port %s published on %s, want 127.0.0.1", p, b.HostIP)
			}
		}
	}

	// adb reaches the phone in the container, on its own.
	conn, err := adb.Dial(ctx, info.GetAdbAddress(), nil)
	if err != nil {
		t.Fatalf("adb dial %s: %v", info.GetAdbAddress(), err)
	}
	out, _, code, err := conn.Shell(ctx, "wm size")
	_ = conn.Close()
	if err != nil || code != 0 || !strings.Contains(string(out), "540x960") {
		t.Errorf("adb shell wm size: %q, exit %d, %v", out, code, err)
	}

	id := info.GetId()
	obs, err := d.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if len(obs.GetScreenshotPng()) < 8 || string(obs.GetScreenshotPng()[1:4]) != "PNG" {
		t.Error("Observe: screenshot is not a PNG")
	}
	if obs.GetScreen().GetWidth() != 540 || obs.GetScreen().GetHeight() != 960 {
		t.Errorf("Observe: screen %v, want 540x960", obs.GetScreen())
	}
	before := obs.GetCurrentApp()
	if _, err := d.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: launch("com.tencent.mm")}); err != nil {
		t.Fatalf("Act(launch): %v", err)
	}
	obs, err = d.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
	if err != nil || obs.GetCurrentApp() != "com.tencent.mm" {
		t.Fatalf("Observe after launch: app %q (was %q), %v", obs.GetCurrentApp(), before, err)
	}
	sh, err := d.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "echo hello"})
	if err != nil || strings.TrimSpace(string(sh.GetStdout())) != "hello" {
		t.Errorf("Shell: %v, %v", sh, err)
	}
	h, err := d.Health(ctx, &cpv1.HealthRequest{DeviceId: id})
	if err != nil || !h.GetOk() || h.GetDetail()["container"] != "running" {
		t.Errorf("Health: %v, %v", h, err)
	}
	if h, err := d.Health(ctx, &cpv1.HealthRequest{}); err != nil || !h.GetOk() {
		t.Errorf("Health(backend): %v, %v", h, err)
	}
	if list, err := d.List(ctx, &cpv1.ListRequest{}); err != nil || len(list.GetDevices()) != 1 || list.GetBackendStatus() != "" {
		t.Errorf("List: %v, %v", list, err)
	}

	if _, err := d.Release(ctx, &cpv1.ReleaseRequest{DeviceId: id}); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if _, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("container %s after Release: %v, want not found", id, err)
	}
	if list, _ := d.List(ctx, &cpv1.ListRequest{}); len(list.GetDevices()) != 0 {
		t.Errorf("List after Release: %v", list.GetDevices())
	}
	if _, err := d.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id}); status.Code(err) != codes.NotFound {
		t.Errorf("Observe after Release: %v, want NotFound", err)
	}
}

// TestProvisionErrors: bad options are refused before anything starts;
// a container whose phone never answers is removed after boot_timeout.
func TestProvisionErrors(t *testing.T) {
	pm := startPodman(t)
	ctx := testCtx(t, 2*time.Minute)
	d := newTestDocker(t, testConfig(t, pm.endpoint, "errors"))
	for _, opts := range []map[string]string{{"width": "abc"}, {"gpu": "quantum"}, {"bogus": "1"}, {"dpi": "5"}} {
		if _, err := d.Provision(ctx, &cpv1.ProvisionRequest{Options: opts}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("Provision(%v): %v, want InvalidArgument", opts, err)
		}
	}
	// An image the engine lacks, with pulling off.
	if _, err := d.Provision(ctx, &cpv1.ProvisionRequest{Options: map[string]string{"image": "localhost/no-such-image:test"}}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Provision of a missing image: %v, want FailedPrecondition", err)
	}
	// A command that exits at once: provisioning fails and leaves nothing.
	cfg := testConfig(t, pm.endpoint, "errors", func(c map[string]any) { c["command"] = []string{"/cloudphone", "no-such-command"} })
	if err := d.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := d.Provision(ctx, &cpv1.ProvisionRequest{}); err == nil {
		t.Fatal("Provision of a container that exits succeeded")
	} else if !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("Provision of a container that exits: %v, want the container's state and output", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("Provision took %s to notice the container exited (boot_timeout is 60s)", took)
	}
	cli := engineClient(t, pm.endpoint)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil || len(res.Items) != 0 {
		t.Errorf("containers left after a failed provision: %d, %v", len(res.Items), err)
	}
}

// TestAdoptAfterRestart: a new plugin instance finds the labelled
// containers of the previous one, adopts the running one and removes the
// dead one.
func TestAdoptAfterRestart(t *testing.T) {
	pm := startPodman(t)
	ctx := testCtx(t, 3*time.Minute)
	t0 := time.Now()
	cfg := testConfig(t, pm.endpoint, "adopt")
	d1 := newTestDocker(t, cfg)
	live, err := d1.Provision(ctx, &cpv1.ProvisionRequest{Labels: map[string]string{"pool": "b"}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if _, err := d1.Act(ctx, &cpv1.ActRequest{DeviceId: live.GetId(), Action: launch("com.android.settings")}); err != nil {
		t.Fatal(err)
	}
	dead, err := d1.Provision(ctx, &cpv1.ProvisionRequest{})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	cli := engineClient(t, pm.endpoint)
	zero := 0
	if _, err := cli.ContainerStop(ctx, dead.GetId(), client.ContainerStopOptions{Timeout: &zero}); err != nil {
		t.Fatal(err)
	}
	// Another instance's container is none of this plugin's business.
	other := newTestDocker(t, testConfig(t, pm.endpoint, "someone-else"))
	foreign, err := other.Provision(ctx, &cpv1.ProvisionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	d1.Close() // the plugin process ends; its containers stay

	t.Logf("setup done in %s", time.Since(t0).Round(time.Millisecond))
	d2 := newTestDocker(t, cfg)
	list, err := d2.List(ctx, &cpv1.ListRequest{})
	if err != nil || list.GetBackendStatus() != "" {
		t.Fatalf("List: %v, %v", list, err)
	}
	if len(list.GetDevices()) != 1 || list.GetDevices()[0].GetId() != live.GetId() {
		t.Fatalf("List after restart: %v, want only %s", list.GetDevices(), live.GetId())
	}
	got := list.GetDevices()[0]
	if got.GetLabels()["pool"] != "b" || got.GetAdbAddress() != live.GetAdbAddress() || got.GetScreen().GetWidth() != 720 {
		t.Errorf("adopted device %v, want labels and address of %v", got, live)
	}
	obs, err := d2.Observe(ctx, &cpv1.ObserveRequest{DeviceId: live.GetId(), SkipScreenshot: true})
	if err != nil || obs.GetCurrentApp() != "com.android.settings" {
		t.Errorf("Observe of the adopted device: app %q, %v (the phone kept its state)", obs.GetCurrentApp(), err)
	}
	if _, err := cli.ContainerInspect(ctx, dead.GetId(), client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
		t.Errorf("dead container %s after adoption: %v, want removed", dead.GetId(), err)
	}
	if _, err := cli.ContainerInspect(ctx, foreign.GetId(), client.ContainerInspectOptions{}); err != nil {
		t.Errorf("another instance's container: %v, want left alone", err)
	}
	waitReady(t, d2, live.GetId())
	// Stopped by hand: offline; started again: ready again.
	if _, err := cli.ContainerStop(ctx, live.GetId(), client.ContainerStopOptions{Timeout: &zero}); err != nil {
		t.Fatal(err)
	}
	if list, _ := d2.List(ctx, &cpv1.ListRequest{}); len(list.GetDevices()) != 1 || list.GetDevices()[0].GetState() != cpv1.DeviceState_DEVICE_STATE_OFFLINE {
		t.Errorf("List with the container stopped: %v, want it offline", list.GetDevices())
	}
	restart := time.Now()
	if _, err := cli.ContainerStart(ctx, live.GetId(), client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("container started again in %s", time.Since(restart).Round(time.Millisecond))
	waitReady(t, d2, live.GetId())
	t.Logf("ready again after %s", time.Since(restart).Round(time.Millisecond))
	if _, err := d2.Observe(ctx, &cpv1.ObserveRequest{DeviceId: live.GetId(), SkipScreenshot: true}); err != nil {
		t.Errorf("Observe after the container restarted: %v", err)
	}
	if _, err := d2.Release(ctx, &cpv1.ReleaseRequest{DeviceId: live.GetId()}); err != nil {
		t.Fatalf("Release of the adopted device: %v", err)
	}
	// A container removed behind the plugin's back leaves the list.
	if _, err := cli.ContainerRemove(ctx, foreign.GetId(), client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if list, _ := other.List(ctx, &cpv1.ListRequest{}); len(list.GetDevices()) != 0 {
		t.Errorf("List after the container was removed by hand: %v", list.GetDevices())
	}
}

func Example_redroidCommand() {
	fmt.Println(strings.Join(spec{width: 720, height: 1280, dpi: 320, gpu: "guest"}.expand(defaultCommand, 5555), " "))
	// Output: androidboot.redroid_width=720 androidboot.redroid_height=1280 androidboot.redroid_dpi=320 androidboot.redroid_gpu_mode=guest
}

// waitReady waits until List shows the device ready.
func waitReady(t *testing.T, d *docker, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, _ := d.List(context.Background(), &cpv1.ListRequest{})
		for _, dev := range list.GetDevices() {
			if dev.GetId() == id && dev.GetState() == cpv1.DeviceState_DEVICE_STATE_READY {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s never became ready: %v", id, list.GetDevices())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
