package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/pool"
)

// A single node with its embedded NATS server: submit a task, run it,
// read its completion and its events.
func Example() {
	dir, _ := os.MkdirTemp("", "cluster-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	node, err := cluster.Open(ctx, cluster.Options{
		NodeID:  "host-1",
		DataDir: dir, // the embedded server stores under dir/nats
		Devices: func() []pool.DeviceStatus {
			return []pool.DeviceStatus{{ID: "redroid/1", Backend: "redroid", State: "free",
				Labels: map[string]string{"android": "14"}}}
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer node.Close()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go node.Run(runCtx, func(ctx context.Context, t cluster.Task) error {
		fmt.Printf("running %s (attempt %d)\n", t.ID, t.Attempt)
		return nil
	})

	if _, err := node.Submit(ctx, cluster.Task{ID: "t-1", Tenant: "acme", Labels: map[string]string{"android": "14"}}); err != nil {
		fmt.Println(err)
		return
	}
	c, err := node.Wait(ctx, "t-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.TaskID, c.State, "on", c.Node)

	events, err := node.Events(ctx, cluster.KindTask, "t-1", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer events.Close()
	for i := 0; i < 3; i++ {
		ev, err := events.Next(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("event:", ev.Type)
	}
	// Output:
	// running t-1 (attempt 1)
	// t-1 succeeded on host-1
	// event: queued
	// event: started
	// event: succeeded
}
