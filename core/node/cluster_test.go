package node

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// TestEmbeddedCluster: a server node with no cluster.nats_url runs an
// embedded NATS server: it reports itself and its phones in
// GET /api/v1/cluster, runs tasks in-process (nothing goes through the
// queue) and publishes their lifecycle as cluster task events.
func TestEmbeddedCluster(t *testing.T) {
	plugins, data := serverPlugins(t), t.TempDir()
	cfg := filepath.Join(t.TempDir(), "cloudphone.yaml")
	writeConfig(t, cfg, plugins, data, "", "cluster:\n  node_id: solo\n  device_ttl: 3s\n")
	n, url, _ := startNode(t, cfg)
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "ops", Tenant: "default", Role: auth.RoleViewer, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := client{t: t, url: url, token: tok}
	waitReady(t, c)
	if n.Cluster == nil || n.Cluster.Server() == nil {
		t.Fatal("no embedded cluster server")
	}

	var st cluster.Status
	poll(t, func() error {
		if code := c.do("GET", "/api/v1/cluster", nil, &st); code != 200 {
			return fmt.Errorf("cluster status: %d", code)
		}
		if len(st.Nodes) != 1 || st.Nodes[0].ID != "solo" || st.Nodes[0].Devices != 2 {
			return fmt.Errorf("cluster status: %+v", st)
		}
		return nil
	})

	op, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "alice", Tenant: "default", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c.token = op
	var task tasks.Task
	if code := c.do("POST", "/api/v1/run", map[string]any{"instruction": "打开设置"}, &task); code != 202 {
		t.Fatalf("run: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	es, err := n.Cluster.Events(ctx, cluster.KindTask, task.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	var types []string
	for {
		ev, err := es.Next(ctx)
		if err != nil {
			t.Fatalf("events of %s after %v: %v", task.ID, types, err)
		}
		types = append(types, ev.Type)
		if ev.Type == string(tasks.StateSucceeded) {
			break
		}
		if ev.Type != "started" && !strings.HasPrefix(ev.Type, agentEventPrefix) {
			t.Fatalf("events of %s: %v", task.ID, types)
		}
	}
	// started, the agent's steps in order, succeeded.
	steps := 0
	for _, typ := range types[1 : len(types)-1] {
		if typ == agentEventPrefix+agent.EventStep {
			steps++
		}
	}
	if types[0] != "started" || steps == 0 {
		t.Errorf("events of %s: %v, want started, agent.step…, succeeded", task.ID, types)
	}
	st, err = n.Cluster.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.QueueDepth != 0 {
		t.Errorf("queue depth %d: an embedded node without cluster.listen runs tasks in-process", st.QueueDepth)
	}
}
