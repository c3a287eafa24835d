package clustertest

import (
	"strings"
	"testing"
)

func TestStart(t *testing.T) {
	for _, n := range []int{1, 3} {
		c := Start(t, n)
		if got := len(strings.Split(c.URL(), ",")); got != n {
			t.Fatalf("%d servers, %d URLs: %s", n, got, c.URL())
		}
		for _, u := range strings.Split(c.URL(), ",") {
			if !strings.HasPrefix(u, "nats://127.0.0.1:") {
				t.Fatalf("server URL %s is not on 127.0.0.1", u)
			}
		}
		if c.Leader() == "" {
			t.Fatalf("%d servers: no meta leader", n)
		}
		for _, s := range c.Servers {
			if s.ClusterSize() != n {
				t.Fatalf("server %s sees %d peers, want %d", s.Name(), s.ClusterSize(), n)
			}
		}
	}
}
