package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
)

// testLogger is quiet unless CLUSTER_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CLUSTER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fleet is a node's simulated phones: device records like a pool's.
type fleet struct {
	mu   sync.Mutex
	devs []pool.DeviceStatus
}

func newFleet(node string, n int, labels map[string]string) *fleet {
	f := &fleet{}
	for i := 0; i < n; i++ {
		l := map[string]string{"host": node}
		for k, v := range labels {
			l[k] = v
		}
		f.devs = append(f.devs, pool.DeviceStatus{ID: fmt.Sprintf("sim/%s-%d", node, i), Backend: "sim", Labels: l,
			State: "free", Health: pool.HealthStatus{Status: "healthy"}})
	}
	return f
}

func (f *fleet) Devices() []pool.DeviceStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]pool.DeviceStatus, len(f.devs))
	copy(out, f.devs)
	return out
}

func (f *fleet) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, d := range f.devs {
		if d.ID == id {
			f.devs = append(f.devs[:i], f.devs[i+1:]...)
			return
		}
	}
}

// openNode opens a node and closes it on cleanup.
func openNode(t testing.TB, o Options) *Node {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("open node %s: %v", o.NodeID, err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// runNode runs n's task loop until cleanup.
func runNode(t testing.TB, n *Node, h Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.Run(ctx, h)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// startCluster starts n JetStream servers on 127.0.0.1 until cleanup.
func startCluster(t testing.TB, n int) *LocalCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := StartLocalCluster(ctx, t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// waitFor polls f until it returns nil or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after %s: %v", timeout, err)
}
