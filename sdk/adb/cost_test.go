package adb_test

import (
	"runtime"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
)

// TestIdleConnectionCost measures the memory of idle connections (client
// and device side together, both in this process): simulated phones must
// stay cheap when 1,000 of them sit connected.
func TestIdleConnectionCost(t *testing.T) {
	const n = 100
	addr := startDevice(t, &adbd.Server{Handler: &adbtest.Handler{}})
	ctx := ctxT(t)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse + ms.StackInuse
	conns := make([]*adb.Conn, 0, n)
	for range n {
		c := dial(t, addr, nil)
		if _, _, _, err := c.Shell(ctx, "true"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	per := (int64(ms.HeapInuse+ms.StackInuse) - int64(before)) / n
	t.Logf("idle connection (both ends): %d KiB", per/1024)
	if per > 256<<10 {
		t.Errorf("idle connection costs %d KiB, want < 256 KiB", per/1024)
	}
	runtime.KeepAlive(conns)
}
