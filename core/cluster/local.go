package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// LocalCluster is a set of embedded JetStream servers on 127.0.0.1 forming
// one route cluster: a cluster for tests and for trying cluster mode on one
// machine.
type LocalCluster struct {
	Servers []*Server
}

// StartLocalCluster starts n servers on 127.0.0.1 (client and route ports
// picked by the OS), each storing under dir/s<i>, and waits until they
// have elected a JetStream meta leader and see each other. On error the
// servers started are shut down.
//
// The route ports are picked free and then handed to the servers, so
// another process may take one in between: a start that fails is retried
// (twice) on new ports.
func StartLocalCluster(ctx context.Context, dir string, n int) (*LocalCluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("local cluster: %d servers", n)
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var c *LocalCluster
		c, err = startLocalCluster(ctx, filepath.Join(dir, fmt.Sprintf("try%d", attempt)), n)
		if err == nil || ctx.Err() != nil {
			return c, err
		}
	}
	return nil, err
}

func startLocalCluster(ctx context.Context, dir string, n int) (*LocalCluster, error) {
	c := &LocalCluster{}
	var routes []string
	name := fmt.Sprintf("cp-local-%d", time.Now().UnixNano()%1_000_000)
	if n > 1 {
		// A JetStream cluster member needs its routes at start, so the
		// route ports are picked first, then handed to every server.
		var err error
		if routes, err = freeRoutes(n); err != nil {
			return nil, err
		}
	}
	for i := 0; i < n; i++ {
		o := ServerOptions{
			Name:     fmt.Sprintf("s%d", i+1),
			StoreDir: filepath.Join(dir, fmt.Sprintf("s%d", i+1)),
			Listen:   "127.0.0.1:0",
		}
		if n > 1 {
			o.ClusterName, o.ClusterListen, o.Routes = name, strings.TrimPrefix(routes[i], "nats-route://"), routes
		}
		s, err := StartServer(o)
		if err != nil {
			c.Shutdown()
			return nil, fmt.Errorf("local cluster: server %d: %w", i+1, err)
		}
		c.Servers = append(c.Servers, s)
	}
	if err := c.waitFormed(ctx); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func freeRoutes(n int) ([]string, error) {
	out := make([]string, n)
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("local cluster: pick a route port: %w", err)
		}
		ls = append(ls, l)
		out[i] = "nats-route://" + l.Addr().String()
	}
	return out, nil
}

func (c *LocalCluster) waitFormed(ctx context.Context) error {
	n := len(c.Servers)
	// Formed means every server agrees on the leader and the peer count
	// three polls in a row: right after a server joins, the others'
	// peer lists can still change for a moment.
	for stable := 0; ; {
		leader, ok := "", true
		for _, s := range c.Servers {
			l := s.MetaLeader()
			if l == "" || s.ClusterSize() < n || (leader != "" && l != leader) {
				ok = false
				break
			}
			leader = l
		}
		if !ok {
			stable = 0
		} else if stable++; stable == 3 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local cluster: %d servers formed no JetStream cluster: %w", n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL is the comma-separated client URLs of every server: a nats_url.
func (c *LocalCluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// Leader is the current JetStream meta leader's name ("" if none).
func (c *LocalCluster) Leader() string {
	for _, s := range c.Servers {
		if l := s.MetaLeader(); l != "" {
			return l
		}
	}
	return ""
}

// Shutdown stops every server.
func (c *LocalCluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
}
