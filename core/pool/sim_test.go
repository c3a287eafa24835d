package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// simHost loads the real device-sim plugin, configured with settings,
// into a real plugin host.
func simHost(t *testing.T, settings string) *pluginhost.Host {
	t.Helper()
	bin := pluginbuild.GoBinary(t, "../../plugins/device-sim", "")
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders:      pluginhost.Loaders(nil, procrt.Options{Logger: log}),
		PluginConfig: func(string) []byte { return []byte(settings) }})
	t.Cleanup(func() { h.Close(context.Background()) })
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "device-sim")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(ctxT(t, 30*time.Second), path); err != nil {
		t.Fatal(err)
	}
	return h
}

// simPool starts a pool over h with device-sim enabled.
func simPool(t *testing.T, h *pluginhost.Host, cfg config.DevicesConfig) *Pool {
	t.Helper()
	p, err := New(Options{Backends: h, Config: cfg, Tick: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PluginState: func(name string) (string, string) {
			for _, s := range h.Status() {
				if s.Name == name {
					return s.State, s.Error
				}
			}
			return "not loaded", ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.Start(ctxT(t, 30*time.Second))
	return p
}

func fastHeartbeat(interval time.Duration, misses int) config.DevicesConfig {
	cfg := testConfig("device-sim")
	cfg.Heartbeat = config.HeartbeatConfig{Interval: interval, Misses: misses}
	return cfg
}

// freePorts finds n consecutive free ports on 127.0.0.1 and returns the
// first.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func simProvision(t *testing.T, h *pluginhost.Host) string {
	t.Helper()
	var info *cpv1.DeviceInfo
	err := h.WithDevice("device-sim", func(d pluginhost.Device) (err error) {
		info, err = d.Provision(ctxT(t, 10*time.Second), &cpv1.ProvisionRequest{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return info.GetId()
}

func simList(t *testing.T, h *pluginhost.Host) []*cpv1.DeviceInfo {
	t.Helper()
	var resp *cpv1.ListResponse
	err := h.WithDevice("device-sim", func(d pluginhost.Device) (err error) {
		resp, err = d.List(ctxT(t, 10*time.Second), &cpv1.ListRequest{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetDevices()
}

// TestSimPhoneKilledMidLease removes a leased phone from the real
// device-sim plugin (its Release): the pool marks it unhealthy within the
// heartbeat window and the lease holder is told why.
func TestSimPhoneKilledMidLease(t *testing.T) {
	h := simHost(t, `{"count": 1, "listen": "127.0.0.1:0"}`)
	const interval, misses = 100 * time.Millisecond, 3
	p := simPool(t, h, fastHeartbeat(interval, misses))
	id := simProvision(t, h)
	p.Sync(context.Background())
	l, err := p.Lease(ctxT(t, 10*time.Second), Request{Owner: "task-1", DeviceID: "device-sim/" + id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Observe(ctxT(t, 10*time.Second), &cpv1.ObserveRequest{SkipScreenshot: true}); err != nil {
		t.Fatalf("observe before the kill: %v", err)
	}
	killed := time.Now()
	err = h.WithDevice("device-sim", func(d pluginhost.Device) error {
		_, err := d.Release(ctxT(t, 10*time.Second), &cpv1.ReleaseRequest{DeviceId: id})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var reason error
	select {
	case reason = <-l.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("lease holder not told within 10s")
	}
	took := time.Since(killed)
	window := time.Duration(misses+1) * interval // the kill may land just after a heartbeat
	t.Logf("lease lost %s after the kill (heartbeat window %s): %v", took.Round(time.Millisecond), window, reason)
	if took > window+400*time.Millisecond {
		t.Errorf("lost after %s, want within the heartbeat window %s", took, window)
	}
	if !errors.Is(reason, ErrLost) || !strings.Contains(reason.Error(), "unhealthy") || !strings.Contains(reason.Error(), id) {
		t.Fatalf("reason %v", reason)
	}
	for _, d := range p.Devices() {
		if d.ID == "device-sim/"+id && (d.Health.Status != HealthUnhealthy || d.Lease != nil) {
			t.Fatalf("killed device %+v", d)
		}
	}
	// The other phone is still leasable.
	if l2, err := p.Lease(ctxT(t, 5*time.Second), Request{NoWait: true}); err != nil {
		t.Fatal(err)
	} else {
		l2.Release()
	}
}

// TestSimBackendCrashKeepsLeases SIGKILLs the real device-sim plugin
// process while two of its phones are leased; procrt restarts it. Phones
// that come back under the same ids keep their leases; phones that do not
// (the system picks new ports) lose theirs with a reason.
func TestSimBackendCrashKeepsLeases(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fixed    bool
		wantKept bool
	}{
		{"same ids", true, true},
		{"new ids", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listen := "127.0.0.1:0"
			if tc.fixed {
				listen = fmt.Sprintf("127.0.0.1:%d", freePorts(t, 3))
			}
			h := simHost(t, fmt.Sprintf(`{"count": 3, "listen": %q}`, listen))
			const interval, misses = 150 * time.Millisecond, 4
			p := simPool(t, h, fastHeartbeat(interval, misses))
			var leases []*Lease
			for i := range 2 {
				l, err := p.Lease(ctxT(t, 10*time.Second), Request{Owner: fmt.Sprintf("task-%d", i)})
				if err != nil {
					t.Fatal(err)
				}
				leases = append(leases, l)
			}
			lease, err := h.Acquire("device-sim")
			if err != nil {
				t.Fatal(err)
			}
			proc := lease.Instance().(interface{ Pid() int })
			old := proc.Pid()
			lease.Release()
			if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 20*time.Second, 10*time.Millisecond, func() error {
				if pid := proc.Pid(); pid == 0 || pid == old {
					return fmt.Errorf("not restarted: pid %d", pid)
				}
				return nil
			})
			restarted := time.Now()
			if !tc.wantKept {
				for _, l := range leases {
					select {
					case err := <-l.Lost():
						if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "unhealthy") {
							t.Fatalf("reason %v", err)
						}
					case <-time.After(10 * time.Second):
						t.Fatal("lease on a phone that did not come back was not lost")
					}
				}
				return
			}
			// Wait until every device passed a heartbeat after the restart.
			checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
				for _, d := range p.Devices() {
					if d.Health.LastOK == nil || d.Health.LastOK.Before(restarted) {
						return fmt.Errorf("%s not checked since the restart", d.ID)
					}
				}
				return nil
			})
			if n := len(p.Leases()); n != 2 {
				t.Fatalf("%d lease records after the crash, want 2", n)
			}
			for _, l := range leases {
				if l.Err() != nil {
					t.Fatalf("lease %s lost: %v", l.ID, l.Err())
				}
				obs, err := l.Observe(ctxT(t, 10*time.Second), &cpv1.ObserveRequest{SkipScreenshot: true})
				if err != nil || obs.GetCurrentApp() == "" {
					t.Fatalf("observe through %s after the restart: %v", l.ID, err)
				}
				l.Release()
			}
		})
	}
}

// TestSimElasticSizing: with device-sim at max 3, a request that waits
// gets a phone the real plugin provisions (with the request's labels);
// idle provisioned phones are released again, down to the configured one.
func TestSimElasticSizing(t *testing.T) {
	h := simHost(t, `{"count": 1, "listen": "127.0.0.1:0"}`)
	cfg := fastHeartbeat(time.Second, 3)
	cfg.Backends["device-sim"] = config.BackendConfig{Enabled: true, Min: 1, Max: 3}
	cfg.Scaling = config.ScalingConfig{ScaleUpWait: 50 * time.Millisecond, ScaleUpBusy: 0.99, ScaleUpAfter: time.Hour,
		ScaleDownIdle: 300 * time.Millisecond}
	p := simPool(t, h, cfg)
	first, err := p.Lease(ctxT(t, 10*time.Second), Request{Owner: "a"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	second, err := p.Lease(ctxT(t, 20*time.Second), Request{Owner: "b", Labels: map[string]string{"flavor": "fast"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second lease waited %s for a provisioned phone", time.Since(start).Round(time.Millisecond))
	var prov *cpv1.DeviceInfo
	for _, d := range simList(t, h) {
		if d.GetProvisioned() {
			prov = d
		}
	}
	if prov == nil || "device-sim/"+prov.GetId() != second.Device || prov.GetLabels()["flavor"] != "fast" {
		t.Fatalf("provisioned %v, leased %s", prov, second.Device)
	}
	first.Release()
	second.Release()
	checkFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if n := len(simList(t, h)); n != 1 {
			return fmt.Errorf("device-sim still has %d phones", n)
		}
		if n := len(p.Devices()); n != 1 {
			return fmt.Errorf("pool still has %d devices", n)
		}
		return nil
	})
	if b := p.Backends()[0]; b.Plugin != pluginhost.StateActive || !b.OK || b.Max != 3 {
		t.Fatalf("backend %+v", b)
	}
}
