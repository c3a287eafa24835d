package fleet

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
)

// memUse is the memory the Go runtime holds for live objects and
// goroutine stacks, after a full collection.
func memUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// TestThousandPhones starts 1,000 phones in this process, measures what
// an idle phone costs (state, listener, serving goroutine), then checks a
// sample still answers adb.
func TestThousandPhones(t *testing.T) {
	const n = 1000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < n+200 {
		t.Skipf("open-file limit %d is too low for %d listeners", lim.Cur, n)
	}
	before := memUse()
	start := time.Now()
	f := startFleet(t, n)
	took := time.Since(start)
	after := memUse()
	per := float64(after-before) / n
	t.Logf("%d phones up in %s; idle cost %.1f KiB per phone (heap+stacks, listener included)", n, took.Round(time.Millisecond), per/1024)
	if per > 2<<20 {
		t.Errorf("an idle phone costs %.0f KiB, over the 2 MiB budget", per/1024)
	}
	if f.Len() != n {
		t.Fatalf("%d phones, want %d", f.Len(), n)
	}
	devs := f.Devices()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range []*Device{devs[0], devs[n/2], devs[n-1]} {
		c, err := adb.Dial(ctx, d.Serial, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", d.Serial, err)
		}
		out, _, code, err := c.Shell(ctx, "getprop ro.serialno")
		_ = c.Close()
		if err != nil || code != 0 || string(out) != d.Serial+"\n" {
			t.Fatalf("%s: %q exit %d %v", d.Serial, out, code, err)
		}
	}
}
