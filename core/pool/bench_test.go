package pool

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

// simLabels are the labels device-sim puts on each phone.
var simLabels = map[string]string{"model": "CloudPhone 1", "android": "14", "resolution": "1080x2400", "profile": "instant"}

// benchPool is a pool of n fake phones, synced, loops not started.
func benchPool(b *testing.B, n int) *Pool {
	cfg := testConfig("fake")
	cfg.Backends["fake"] = config.BackendConfig{Enabled: true, Labels: map[string]string{"region": "cn-north"}}
	return newTestPool(b, cfg, fakeBackends{"fake": newFakeBackend(n, simLabels)}, nil)
}

// BenchmarkLeaseRelease: one lease + release at a time with 1,000
// devices registered; reports p50 and p99 of the pair.
func BenchmarkLeaseRelease(b *testing.B) {
	p := benchPool(b, 1000)
	ctx := context.Background()
	req := Request{Tenant: "t", Owner: "bench", Labels: map[string]string{"android": "14"}}
	lat := make([]time.Duration, 0, 1<<20)
	for b.Loop() {
		start := time.Now()
		l, err := p.Lease(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	reportLatency(b, lat)
}

// BenchmarkLeaseReleaseParallel: every P leases and releases at once,
// against 1,000 devices.
func BenchmarkLeaseReleaseParallel(b *testing.B) {
	p := benchPool(b, 1000)
	req := Request{Tenant: "t", Owner: "bench", Labels: map[string]string{"android": "14"}}
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			l, err := p.Lease(ctx, req)
			if err != nil {
				b.Error(err)
				return
			}
			l.Release()
		}
	})
}

// BenchmarkLeaseHeld: leases held on 999 of 1,000 devices, the last one
// leased and released: the scan over busy devices is the worst case.
func BenchmarkLeaseHeld(b *testing.B) {
	p := benchPool(b, 1000)
	ctx := context.Background()
	for range 999 {
		if _, err := p.Lease(ctx, Request{Tenant: "hold"}); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, 1<<20)
	for b.Loop() {
		start := time.Now()
		l, err := p.Lease(ctx, Request{Tenant: "t", NoWait: true})
		if err != nil {
			b.Fatal(err)
		}
		l.Release()
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkMemoryPerDevice registers 1,000 devices (device-sim's labels
// plus a config label) and reports the pool's heap per device, measured
// as the live-heap delta after a GC, with the backend's own list and
// every response dropped.
func BenchmarkMemoryPerDevice(b *testing.B) {
	const n = 1000
	for b.Loop() {
		fb := newFakeBackend(n, simLabels)
		bs := fakeBackends{"fake": fb}
		before := heapInUse()
		cfg := testConfig("fake")
		cfg.Backends["fake"] = config.BackendConfig{Enabled: true, Labels: map[string]string{"region": "cn-north"}}
		p, err := New(Options{Backends: bs, Config: cfg, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		p.Sync(context.Background())
		p.Heartbeat(context.Background())
		after := heapInUse()
		if got := len(p.Devices()); got != n {
			b.Fatalf("%d devices", got)
		}
		b.ReportMetric(float64(after-before)/n, "B/device")
		// Every device leased too.
		leases := make([]*Lease, 0, n)
		for range n {
			l, err := p.Lease(context.Background(), Request{Owner: "task", NoWait: true})
			if err != nil {
				b.Fatal(err)
			}
			leases = append(leases, l)
		}
		leased := heapInUse()
		b.ReportMetric(float64(leased-before)/n, "B/leased-device")
		runtime.KeepAlive(fb)
		runtime.KeepAlive(leases)
		p.Close()
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
