package pool

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestLabelsAndStatus(t *testing.T) {
	cfg := testConfig("fake")
	cfg.Backends["fake"] = config.BackendConfig{Enabled: true, Labels: map[string]string{"region": "cn-north"}}
	fb := newFakeBackend(2, map[string]string{"model": "Pixel", "android": "14", "backend": "self-named"})
	p := newTestPool(t, cfg, fakeBackends{"fake": fb}, nil)
	devs := p.Devices()
	if len(devs) != 2 {
		t.Fatalf("devices %+v", devs)
	}
	d := devs[0]
	if d.ID != "fake/p0000" || d.Backend != "fake" || d.State != StateFree || d.Lease != nil || d.Health.Status != HealthUnknown {
		t.Fatalf("device %+v", d)
	}
	for k, v := range map[string]string{"backend": "fake", "model": "Pixel", "android": "14", "region": "cn-north"} {
		if d.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, d.Labels[k], v)
		}
	}
	l, err := p.Lease(ctxT(t, time.Second), Request{Owner: "task-1", Labels: map[string]string{"region": "cn-north"}})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := l.Observe(context.Background(), &cpv1.ObserveRequest{})
	if err != nil || obs.GetCurrentApp() != "fake:p0000" {
		t.Fatalf("observe through the lease: %v %v", obs, err)
	}
	d = p.Devices()[0]
	if d.State != StateLeased || d.Lease == nil || d.Lease.Owner != "task-1" || d.Lease.Tenant != DefaultTenant {
		t.Fatalf("leased device %+v", d)
	}
	bs := p.Backends()
	if len(bs) != 1 || !bs[0].OK || bs[0].Devices != 2 || bs[0].Leased != 1 || bs[0].Free != 1 {
		t.Fatalf("backends %+v", bs)
	}
	l.Release()
	l.Release() // twice is harmless
	if _, err := l.Observe(context.Background(), &cpv1.ObserveRequest{}); !errors.Is(err, ErrReleased) {
		t.Fatalf("observe after release: %v", err)
	}
}

func TestLeaseMatching(t *testing.T) {
	cfg := testConfig("a", "b")
	cfg.Backends["b"] = config.BackendConfig{Enabled: true, Taints: []string{"gpu=a100:NoSchedule"}}
	a := newFakeBackend(1, map[string]string{"android": "14"})
	a.devs["ded"] = &cpv1.DeviceInfo{Id: "ded", State: cpv1.DeviceState_DEVICE_STATE_READY, Labels: map[string]string{"tenant": "t1"}}
	a.devs["own"] = &cpv1.DeviceInfo{Id: "own", State: cpv1.DeviceState_DEVICE_STATE_READY, Labels: map[string]string{"taints": "lab:NoSchedule"}}
	a.devs["boot"] = &cpv1.DeviceInfo{Id: "boot", State: cpv1.DeviceState_DEVICE_STATE_BOOTING, Labels: map[string]string{"android": "9"}}
	b := newFakeBackend(1, map[string]string{"android": "13"})
	p := newTestPool(t, cfg, fakeBackends{"a": a, "b": b}, nil)
	for _, tc := range []struct {
		name string
		req  Request
		want string // device key, or the error's text
	}{
		{"selector", Request{Labels: map[string]string{"android": "14"}}, "a/p0000"},
		{"no such label value", Request{Labels: map[string]string{"android": "15"}}, "no matching device"},
		{"booting is not leasable", Request{Labels: map[string]string{"android": "9"}}, "1 booting"},
		{"taint not tolerated", Request{Labels: map[string]string{"backend": "b"}}, "no matching device"},
		{"taint tolerated by key", Request{Labels: map[string]string{"backend": "b"}, Tolerations: []string{"gpu"}}, "b/p0000"},
		{"taint tolerated by value", Request{Labels: map[string]string{"backend": "b"}, Tolerations: []string{"gpu=a100:NoSchedule"}}, "b/p0000"},
		{"wrong toleration value", Request{Labels: map[string]string{"backend": "b"}, Tolerations: []string{"gpu=h100"}}, "no matching device"},
		{"device's own taint", Request{DeviceID: "a/own"}, "no matching device"},
		{"device's own taint tolerated", Request{DeviceID: "a/own", Tolerations: []string{"lab"}}, "a/own"},
		{"dedicated to another tenant", Request{DeviceID: "ded", Tenant: "t2"}, "no matching device"},
		{"dedicated tenant", Request{DeviceID: "ded", Tenant: "t1"}, "a/ded"},
		{"bare id", Request{DeviceID: "p0000", Labels: map[string]string{"backend": "a"}}, "a/p0000"},
		{"bad toleration", Request{Tolerations: []string{"x:NoExecute"}}, "only effect is NoSchedule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.NoWait = true
			l, err := p.Lease(context.Background(), tc.req)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q, want %q", err, tc.want)
				}
				return
			}
			defer l.Release()
			if l.Device != tc.want {
				t.Fatalf("leased %s, want %s", l.Device, tc.want)
			}
		})
	}
}

func TestLeaseWaitsAndReportsWhy(t *testing.T) {
	fb := newFakeBackend(1, nil)
	p := newTestPool(t, testConfig("fake"), fakeBackends{"fake": fb}, nil)
	first, err := p.Lease(ctxT(t, time.Second), Request{Owner: "a"})
	if err != nil {
		t.Fatal(err)
	}
	// A second request waits; when its context ends it says why.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = p.Lease(ctx, Request{Owner: "b"})
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 leased") {
		t.Fatalf("err = %v", err)
	}
	// Waiters are served in order when the device frees.
	got := make(chan string, 2)
	for _, owner := range []string{"c", "d"} {
		go func() {
			l, err := p.Lease(ctxT(t, 5*time.Second), Request{Owner: owner})
			if err != nil {
				got <- err.Error()
				return
			}
			got <- owner
			l.Release()
		}()
		checkFor(t, time.Second, time.Millisecond, func() error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.waiters) == 0 || p.waiters[len(p.waiters)-1].req.Owner != owner {
				return errors.New("not queued yet")
			}
			return nil
		})
	}
	first.Release()
	if a, b := <-got, <-got; a != "c" || b != "d" {
		t.Fatalf("served %s then %s, want c then d", a, b)
	}
}

func TestTTLExpiry(t *testing.T) {
	clk := newFakeClock()
	fb := newFakeBackend(1, nil)
	p := newTestPool(t, testConfig("fake"), fakeBackends{"fake": fb}, clk)
	l, err := p.Lease(ctxT(t, time.Second), Request{Owner: "t", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Second)
	p.sweep()
	if err := l.Renew(0); err != nil { // another minute from now
		t.Fatal(err)
	}
	clk.Advance(50 * time.Second)
	p.sweep()
	if l.Err() != nil {
		t.Fatalf("renewed lease lost: %v", l.Err())
	}
	clk.Advance(11 * time.Second)
	p.sweep()
	select {
	case err := <-l.Lost():
		if !errors.Is(err, ErrExpired) || !IsLost(err) || !strings.Contains(err.Error(), "ttl of 1m0s") {
			t.Fatalf("lost: %v", err)
		}
	default:
		t.Fatal("expired lease not reported lost")
	}
	if err := l.Renew(0); !errors.Is(err, ErrExpired) {
		t.Fatalf("renew after expiry: %v", err)
	}
	if d := p.Devices()[0]; d.State != StateFree {
		t.Fatalf("device after expiry: %+v", d)
	}
	if len(p.Leases()) != 0 || len(p.Held()) != 0 {
		t.Fatalf("leases %v held %v", p.Leases(), p.Held())
	}
}

func TestHeartbeatMissesDrainAndTellHolder(t *testing.T) {
	cfg := testConfig("fake")
	cfg.Heartbeat.Misses = 3
	fb := newFakeBackend(2, nil)
	p := newTestPool(t, cfg, fakeBackends{"fake": fb}, nil)
	l, err := p.Lease(ctxT(t, time.Second), Request{Owner: "t", DeviceID: "fake/p0000"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p.Heartbeat(ctx)
	fb.setSick("p0000", true)
	for i := range 2 {
		p.Heartbeat(ctx)
		if l.Err() != nil {
			t.Fatalf("lost after %d misses", i+1)
		}
	}
	p.Heartbeat(ctx)
	select {
	case err := <-l.Lost():
		if !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "3 health checks failed") || !strings.Contains(err.Error(), "screen frozen") {
			t.Fatalf("lost: %v", err)
		}
	default:
		t.Fatal("holder not told")
	}
	if _, err := l.Act(ctx, &cpv1.Action{}); !errors.Is(err, ErrLost) {
		t.Fatalf("act on a lost lease: %v", err)
	}
	d := p.Devices()[0]
	if d.State != StateDrained || d.Health.Status != HealthUnhealthy || d.Health.Misses != 3 {
		t.Fatalf("device %+v", d)
	}
	// Drained: a new lease for it fails; one for any device gets the other.
	if _, err := p.Lease(ctx, Request{DeviceID: "fake/p0000", NoWait: true}); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "1 drained") {
		t.Fatalf("lease of a drained device: %v", err)
	}
	if l2, err := p.Lease(ctx, Request{NoWait: true}); err != nil || l2.Device != "fake/p0001" {
		t.Fatalf("lease: %v %v", l2, err)
	}
	// Recovery: one good heartbeat makes it leasable again.
	fb.setSick("p0000", false)
	p.Heartbeat(ctx)
	if d := p.Devices()[0]; d.State != StateFree || d.Health.Status != HealthHealthy {
		t.Fatalf("recovered device %+v", d)
	}
}

// TestTenantQuotas has two tenants contend for 6 phones with 3 workers
// each more than the phones: neither ever holds more than its limit, and
// each gets its request even while the other wants everything.
func TestTenantQuotas(t *testing.T) {
	cfg := testConfig("fake")
	cfg.Tenants = map[string]config.TenantQuota{"a": {Request: 2, Limit: 3}, "b": {Request: 2, Limit: 4}}
	fb := newFakeBackend(6, nil)
	p := newTestPool(t, cfg, fakeBackends{"fake": fb}, nil)

	// Quota decisions, one at a time.
	ctx := context.Background()
	var held []*Lease
	for _, tc := range []struct {
		tenant string
		want   string // "" = granted
	}{
		{"b", ""}, {"b", ""}, {"b", ""}, {"b", ""}, // b: 4 = its limit; 2 left for a's request
		{"b", "tenant b holds 4 of its limit of 4"},
		{"a", ""}, {"a", ""},
		{"a", "no matching device is free"},
	} {
		l, err := p.Lease(ctx, Request{Tenant: tc.tenant, NoWait: true})
		switch {
		case tc.want == "" && err != nil:
			t.Fatalf("%s: %v", tc.tenant, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Fatalf("%s: err %v, want %q", tc.tenant, err, tc.want)
		case err == nil:
			held = append(held, l)
		}
	}
	for _, l := range held {
		l.Release()
	}
	// Nobody else may take the last free devices kept for a's request.
	var bs []*Lease
	for range 4 {
		l, err := p.Lease(ctx, Request{Tenant: "b", NoWait: true})
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, l)
	}
	if _, err := p.Lease(ctx, Request{Tenant: "c", NoWait: true}); !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "the 2 free devices are kept for other tenants' requests (a: 2)") {
		t.Fatalf("c borrowing a's request: %v", err)
	}
	for _, l := range bs {
		l.Release()
	}

	// Contention: 9 workers per tenant, each leasing and releasing 20 times.
	var mu sync.Mutex
	maxHeld := map[string]int{}
	var wg sync.WaitGroup
	for _, tenant := range []string{"a", "b"} {
		for range 9 {
			wg.Go(func() {
				for range 20 {
					l, err := p.Lease(ctxT(t, 10*time.Second), Request{Tenant: tenant, Owner: tenant})
					if err != nil {
						t.Error(err)
						return
					}
					h := p.Held()
					mu.Lock()
					for tn, n := range h {
						maxHeld[tn] = max(maxHeld[tn], n)
					}
					mu.Unlock()
					runtime.Gosched() // let the others contend while it is held
					l.Release()
				}
			})
		}
	}
	wg.Wait()
	if maxHeld["a"] > 3 || maxHeld["b"] > 4 {
		t.Fatalf("limits exceeded: %v", maxHeld)
	}
	if maxHeld["a"] < 2 || maxHeld["b"] < 2 {
		t.Fatalf("requests not met under contention: %v", maxHeld)
	}
	t.Logf("most devices held at once: %v", maxHeld)
}

func TestBackendDisabledLosesLeases(t *testing.T) {
	fb := newFakeBackend(1, nil)
	p := newTestPool(t, testConfig("fake"), fakeBackends{"fake": fb}, nil)
	l, err := p.Lease(ctxT(t, time.Second), Request{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetConfig(testConfig()); err != nil {
		t.Fatal(err)
	}
	if err := <-l.Lost(); !errors.Is(err, ErrLost) || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("lost: %v", err)
	}
	if len(p.Devices()) != 0 {
		t.Fatalf("devices %+v", p.Devices())
	}
}

func TestListFailureKeepsDevices(t *testing.T) {
	fb := newFakeBackend(2, nil)
	p := newTestPool(t, testConfig("fake"), fakeBackends{"fake": fb}, nil)
	fb.mu.Lock()
	fb.listErr = errors.New("engine unreachable")
	fb.mu.Unlock()
	p.Sync(context.Background())
	if n := len(p.Devices()); n != 2 {
		t.Fatalf("%d devices after a failed list", n)
	}
	b := p.Backends()[0]
	if b.OK || !strings.Contains(b.Status, "engine unreachable") {
		t.Fatalf("backend %+v", b)
	}
	// An engine the plugin cannot reach: the plugin answers, with a status.
	fb.mu.Lock()
	fb.listErr = nil
	fb.status = "docker: connection refused"
	fb.mu.Unlock()
	p.Sync(context.Background())
	if b := p.Backends()[0]; b.OK || b.Status != "docker: connection refused" {
		t.Fatalf("backend %+v", b)
	}
	// A device that leaves the list leaves the pool, unless leased.
	fb.mu.Lock()
	fb.status = ""
	fb.mu.Unlock()
	l, _ := p.Lease(context.Background(), Request{DeviceID: "fake/p0001", NoWait: true})
	fb.mu.Lock()
	clear(fb.devs)
	fb.mu.Unlock()
	p.Sync(context.Background())
	devs := p.Devices()
	if len(devs) != 1 || devs[0].ID != "fake/p0001" || devs[0].State != StateMissing {
		t.Fatalf("devices %+v", devs)
	}
	l.Release()
	if n := len(p.Devices()); n != 1 {
		t.Fatalf("%d devices", n) // gone at the next sync or heartbeat
	}
	p.Sync(context.Background())
	if n := len(p.Devices()); n != 0 {
		t.Fatalf("%d devices after sync", n)
	}
}

func TestElasticSizingUnit(t *testing.T) {
	clk := newFakeClock()
	cfg := testConfig("fake")
	cfg.Backends["fake"] = config.BackendConfig{Enabled: true, Min: 1, Max: 3}
	cfg.Scaling = config.ScalingConfig{ScaleUpWait: time.Minute, ScaleUpBusy: 0.7, ScaleUpAfter: time.Minute, ScaleDownIdle: 5 * time.Minute}
	fb := newFakeBackend(0, nil)
	p := newTestPool(t, cfg, fakeBackends{"fake": fb}, clk)
	// Below min: one phone is provisioned.
	p.sweep()
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		if n := len(p.Devices()); n != 1 {
			return errors.New("min not provisioned")
		}
		return nil
	})
	l1, err := p.Lease(context.Background(), Request{NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	// A request that waits scale_up_wait gets a phone provisioned for it,
	// with its labels.
	got := make(chan *Lease, 1)
	go func() {
		l, err := p.Lease(ctxT(t, 10*time.Second), Request{Labels: map[string]string{"flavor": "x"}})
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	checkFor(t, time.Second, time.Millisecond, func() error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.waiters) != 1 {
			return errors.New("not waiting")
		}
		return nil
	})
	p.sweep()
	if fb.count("provision") != 1 {
		t.Fatal("provisioned before scale_up_wait")
	}
	clk.Advance(time.Minute)
	p.sweep()
	l2 := <-got
	if l2 == nil || fb.count("provision") != 2 {
		t.Fatalf("lease %v, provisions %d", l2, fb.count("provision"))
	}
	// Idle provisioned phones go after scale_down_idle, never below min.
	l1.Release()
	l2.Release()
	clk.Advance(5 * time.Minute)
	p.sweep()
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		if n := len(p.Devices()); n != 1 {
			return errors.New("idle phones not released")
		}
		return nil
	})
	if fb.count("release") != 1 || len(fb.ids()) != 1 {
		t.Fatalf("releases %d, backend has %v", fb.count("release"), fb.ids())
	}
	// Busy for scale_up_after: one more phone.
	l3, _ := p.Lease(context.Background(), Request{NoWait: true})
	defer l3.Release()
	p.sweep()
	clk.Advance(time.Minute)
	p.sweep()
	checkFor(t, 5*time.Second, time.Millisecond, func() error {
		if n := len(p.Devices()); n != 2 {
			return errors.New("busy backend not grown")
		}
		return nil
	})
}
