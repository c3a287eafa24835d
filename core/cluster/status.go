package cluster

import (
	"context"
	"fmt"
	"time"
)

// Status is `cloudphone cluster status --json`.
type Status struct {
	// Nodes are the live nodes, by id.
	Nodes []NodeStatus `json:"nodes"`
	// QueueDepth is the number of tasks in the queue not yet completed:
	// waiting plus running.
	QueueDepth uint64 `json:"queue_depth"`
	// Waiting is the part of QueueDepth no node holds yet; Running the
	// part delivered and not yet acked.
	Waiting uint64 `json:"waiting"`
	Running int    `json:"running"`
	// Leader is the JetStream meta leader when this node embeds a server
	// of the cluster, otherwise the leader of the task queue's stream
	// (QueueLeader).
	Leader      string `json:"leader,omitempty"`
	QueueLeader string `json:"queue_leader,omitempty"`
	// Cluster is the NATS cluster name ("" for a single server).
	Cluster string `json:"cluster,omitempty"`
	// Replicas is the queue's replica count.
	Replicas int `json:"replicas"`
}

// NodeStatus is one node in Status.
type NodeStatus struct {
	ID            string    `json:"id"`
	Devices       int       `json:"devices"`
	State         string    `json:"state"`
	Running       int       `json:"running"`
	Capacity      int       `json:"capacity"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

// Status reports the live nodes, the queue and the leaders.
func (n *Node) Status(ctx context.Context) (Status, error) {
	nodes, err := n.Nodes(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cluster status: %w", err)
	}
	st := Status{Nodes: make([]NodeStatus, 0, len(nodes))}
	for _, ni := range nodes {
		st.Nodes = append(st.Nodes, NodeStatus{ID: ni.ID, Devices: ni.Devices, State: ni.State, Running: ni.Running,
			Capacity: ni.Capacity, LastHeartbeat: ni.LastHeartbeat})
	}
	si, err := n.tasks.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cluster status: queue: %w", err)
	}
	st.QueueDepth, st.Replicas = si.State.Msgs, si.Config.Replicas
	if si.Cluster != nil {
		st.QueueLeader, st.Cluster = si.Cluster.Leader, si.Cluster.Name
	}
	ci, err := n.workers.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("cluster status: consumer: %w", err)
	}
	st.Waiting, st.Running = ci.NumPending, ci.NumAckPending
	st.Leader = st.QueueLeader
	if n.srv != nil {
		if l := n.srv.MetaLeader(); l != "" {
			st.Leader = l
		}
	}
	return st, nil
}
