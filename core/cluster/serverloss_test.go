package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// TestServerLoss: with three NATS servers and R3 streams, shutting down
// the server that leads the task queue mid-run loses nothing: the nodes
// reconnect to the others, a new leader is elected, and every task
// completes exactly once.
func TestServerLoss(t *testing.T) {
	const total = 120
	cl := startCluster(t, 3)
	var runs atomic.Int64
	nodes := make([]*Node, 2)
	for i := range nodes {
		id := fmt.Sprintf("m%d", i+1)
		nodes[i] = openNode(t, Options{NodeID: id, NATSURL: cl.URL(), Devices: newFleet(id, 4, nil).Devices,
			AckWait: 2 * time.Second, DeviceTTL: 3 * time.Second})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ids := make([]string, total)
	for i := range ids {
		ids[i] = fmt.Sprintf("sl-%03d", i)
		if _, err := nodes[i%2].Submit(ctx, Task{ID: ids[i]}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := nodes[0].Status(ctx)
	if err != nil || st.QueueLeader == "" || st.Replicas != 3 {
		t.Fatalf("status %+v, %v", st, err)
	}
	for _, n := range nodes {
		runNode(t, n, simHandler(&runs, false))
	}
	waitFor(t, 30*time.Second, func() error {
		if r := runs.Load(); r < 30 {
			return fmt.Errorf("%d tasks ran", r)
		}
		return nil
	})
	dead := st.QueueLeader
	for _, s := range cl.Servers {
		if s.Name() == dead {
			s.Shutdown()
		}
	}
	killedAt := time.Now()
	t.Logf("shut down %s, the queue's leader, after %d runs", dead, runs.Load())
	byNode := map[string]int{}
	for _, id := range ids {
		c, err := nodes[1].Wait(ctx, id)
		if err != nil {
			qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer qcancel()
			st, serr := nodes[0].Status(qctx)
			t.Fatalf("task %s: %v (status %+v, %v)", id, err, st, serr)
		}
		if c.State != StateSucceeded {
			t.Errorf("task %s: %+v", id, c)
		}
		byNode[c.Node]++
	}
	t.Logf("all %d tasks completed %s after the server loss", total, time.Since(killedAt).Round(time.Millisecond))
	waitFor(t, 20*time.Second, func() error {
		st, err := nodes[0].Status(ctx)
		if err != nil {
			return err
		}
		if st.QueueDepth != 0 || st.QueueLeader == "" || st.QueueLeader == dead {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	t.Logf("completions by node %v, handler runs %d", byNode, runs.Load())
}
