// Package clustertest starts real NATS JetStream servers on 127.0.0.1 for
// tests of other packages: one, or an N-server route cluster, each with its
// own store directory under t.TempDir(), all shut down by t.Cleanup.
package clustertest

import (
	"context"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
)

// Start starts n JetStream servers forming one cluster (see
// cluster.StartLocalCluster) and shuts them down on cleanup. Pass
// c.URL() as a node's NATSURL.
func Start(t testing.TB, n int) *cluster.LocalCluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cluster.StartLocalCluster(ctx, t.TempDir(), n)
	if err != nil {
		t.Fatalf("clustertest: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return c
}
