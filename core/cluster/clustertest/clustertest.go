// Package clustertest starts real NATS JetStream servers on 127.0.0.1 for
// tests: one, or an N-server route cluster, each with its own store
// directory, all shut down by t.Cleanup.
package clustertest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
)

// Cluster is a running set of JetStream servers.
type Cluster struct {
	Servers []*cluster.Server
	t       testing.TB
	name    string
}

// Start starts n JetStream servers on 127.0.0.1 (ports picked by the OS)
// forming one cluster (n > 1), waits until they have elected a meta
// leader and see each other, and shuts them down on cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("clustertest: %d servers", n)
	}
	c := &Cluster{t: t, name: fmt.Sprintf("cp-test-%d", time.Now().UnixNano()%1e6)}
	dir := t.TempDir()
	// A JetStream cluster member needs its routes at start, so the route
	// ports are picked by the OS first, then handed to every server.
	var routes []string
	if n > 1 {
		routes = freeRoutes(t, n)
	}
	for i := 0; i < n; i++ {
		o := cluster.ServerOptions{
			Name:     fmt.Sprintf("s%d", i+1),
			StoreDir: filepath.Join(dir, fmt.Sprintf("s%d", i+1)),
			Listen:   "127.0.0.1:0",
		}
		if n > 1 {
			o.ClusterName, o.ClusterListen, o.Routes = c.name, strings.TrimPrefix(routes[i], "nats-route://"), routes
		}
		s, err := cluster.StartServer(o)
		if err != nil {
			t.Fatalf("clustertest: start server %d: %v", i+1, err)
		}
		t.Cleanup(s.Shutdown)
		c.Servers = append(c.Servers, s)
	}
	if n > 1 {
		c.waitFormed(30 * time.Second)
	}
	return c
}

func (c *Cluster) waitFormed(timeout time.Duration) {
	c.t.Helper()
	n := len(c.Servers)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok := true
		leader := ""
		for _, s := range c.Servers {
			l := s.MetaLeader()
			if l == "" || s.ClusterSize() < n || (leader != "" && l != leader) {
				ok = false
				break
			}
			leader = l
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("clustertest: %d servers formed no JetStream cluster in %s", n, timeout)
}

// freeRoutes returns n route URLs on 127.0.0.1 ports the OS just had
// free.
func freeRoutes(t testing.TB, n int) []string {
	t.Helper()
	out := make([]string, n)
	ls := make([]net.Listener, n)
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("clustertest: pick a route port: %v", err)
		}
		ls[i] = l
		out[i] = "nats-route://" + l.Addr().String()
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return out
}

// URL is the comma-separated client URLs of every server (a nats_url).
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// Leader is the current JetStream meta leader's name.
func (c *Cluster) Leader() string {
	for _, s := range c.Servers {
		if l := s.MetaLeader(); l != "" {
			return l
		}
	}
	return ""
}
