package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
)

// TestClusterStatusOutput: the table names every node with its phones and
// state and the queue; --json always has nodes, queue_depth and leader
// (also while no leader is elected).
func TestClusterStatusOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     cluster.Status
		leader string
	}{
		{"two nodes", cluster.Status{Nodes: []cluster.NodeStatus{
			{ID: "rack-1", Devices: 12, State: cluster.NodeServing, Running: 3, Capacity: 12, LastHeartbeat: time.Now()},
			{ID: "kvm-1", Devices: 4, State: cluster.NodeIdle}}, QueueDepth: 7, Waiting: 4, Running: 3, Leader: "nats-2", Replicas: 3}, "nats-2"},
		{"no leader", cluster.Status{Nodes: []cluster.NodeStatus{}, Replicas: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var table bytes.Buffer
			printClusterStatus(&table, tc.st)
			for _, n := range tc.st.Nodes {
				if !strings.Contains(table.String(), n.ID) || !strings.Contains(table.String(), n.State) {
					t.Errorf("table lacks node %s: %s", n.ID, table.String())
				}
			}
			if !strings.Contains(table.String(), "queue depth") {
				t.Errorf("table lacks the queue: %s", table.String())
			}
			var js bytes.Buffer
			if err := printClusterJSON(&js, tc.st); err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(js.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"nodes", "queue_depth", "leader"} {
				if _, ok := m[k]; !ok {
					t.Errorf("--json lacks %q: %s", k, js.String())
				}
			}
			var leader string
			if err := json.Unmarshal(m["leader"], &leader); err != nil || leader != tc.leader {
				t.Errorf("leader %s, want %q", m["leader"], tc.leader)
			}
		})
	}
}
