// Package cluster is cloudphone's multi-node layer on NATS JetStream: many
// nodes, one fleet, no home-made consensus.
//
// A Node connects to NATS — an in-process server it starts itself (the
// single-node default, storage under the data directory) or an existing
// cluster named by URL — and holds:
//
//   - the task queue: a work-queue stream (CP_TASKS, subjects
//     cp.tasks.<tenant>) that every node pulls from through one shared
//     durable consumer. Node.Submit publishes a task with its id as the
//     Nats-Msg-Id (duplicates dropped); Node.Run pulls what fits the node
//     (tenant, device labels, concurrency), sends in-progress acks while the
//     handler runs, and records completion in the CP_DONE bucket with
//     create-if-absent, so a task redelivered after its node died completes
//     exactly once;
//   - the device registry: a key-value bucket whose records live for the
//     device TTL unless their node re-puts them, so a dead node's phones
//     leave Node.Devices within the TTL;
//   - events: task and device events on cp.events.task.<id> and
//     cp.events.device.<id>, kept in a limits stream so a late subscriber
//     reads a task's history from its first event;
//   - plugins: an object store bucket; Node.PushPlugin stores a file with its
//     sha256, and every node with a plugin directory fetches, verifies and
//     atomically writes it there for the plugin host's watcher to load;
//   - status: node heartbeats, queue depth and leaders (Node.Status).
//
// It is not a scheduler: the order in which a node runs the tasks it holds
// is its local scheduler's business. It does not run tasks itself: the
// caller's handler does. See docs/cluster.md for running it in production
// and what each kind of failure does.
//
// StartServer starts one embedded NATS server (optionally a member of a
// route cluster); package clustertest starts an N-server JetStream cluster
// for tests.
package cluster
