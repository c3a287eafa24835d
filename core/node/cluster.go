package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/api"
	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// snapshotBucket keeps the latest record of every task submitted through
// the cluster queue, written by the node that accepted it and then by the
// node that runs it, so GET /api/v1/tasks/{id} works on any node.
const snapshotBucket = "cp-tasks"

// startCluster joins the cluster (core/cluster): an embedded NATS server
// under data.dir when cluster.nats_url is empty, else the cluster named.
// The node's phones are registered, plugins pushed to the cluster land in
// plugins.dir. With nats_url or cluster.listen set the node is in queue
// mode: POST /api/v1/run goes through the cluster's task queue and the
// node runs the tasks the queue gives it; otherwise tasks run in-process
// as on a single node and only their lifecycle events are published.
func (n *Node) startCluster(ctx context.Context, cfg *config.Config) error {
	cc := cfg.Cluster
	cn, err := cluster.Open(ctx, cluster.Options{NATSURL: cc.NATSURL, DataDir: cfg.Data.Dir, Listen: cc.Listen,
		NodeID: cc.NodeID, Replicas: cc.Replicas, AckWait: cc.AckWait, DeviceTTL: cc.DeviceTTL,
		Devices: n.Pool.Devices, PluginDir: cfg.Plugins.Dir,
		Pins:     func() map[string]string { return n.cfg.Current().Plugins.Pin },
		OnPlugin: n.pluginSynced, Prepare: n.Host.Prepare, Logger: n.log})
	if err != nil {
		return fmt.Errorf("join cluster: %w", err)
	}
	n.Cluster = cn
	ct := &clusterTasks{Service: n.Tasks, cn: cn, log: n.log, queue: cc.NATSURL != "" || cc.Listen != ""}
	n.clusterTasks = ct
	if ct.queue {
		if err := ct.openSnapshots(ctx); err != nil {
			_ = cn.Close()
			return err
		}
		n.API.Tasks = ct
		n.API.Devices = clusterDevices{Pool: n.Pool, cn: cn}
	}
	n.obs.set(cn, !ct.queue)
	ct.flush = n.obs.flush
	n.API.Cluster = func(ctx context.Context) (any, error) { return cn.Status(ctx) }
	if ct.queue {
		// Other nodes can join: a push goes to all of them. Without queue
		// mode no other node can reach this one's embedded server, and the
		// node installs a push itself, answering once it serves.
		n.API.PushPlugin = cn.PushPlugin
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !ct.queue {
			return
		}
		// Run takes as many tasks at once as the node has phones when it
		// starts: wait (a while) for the device backends' first listing.
		for i := 0; i < 600 && n.ready() != nil; i++ {
			select {
			case <-rctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
		if err := cn.Run(rctx, ct.handle); err != nil && !errors.Is(err, context.Canceled) {
			n.log.Error("cluster task runner stopped", "error", err)
		}
	}()
	// Closers run in reverse: the runner stops (its tasks go back to the
	// queue) and the node leaves before the scheduler and task service stop.
	n.closers = append(n.closers, func(context.Context) error {
		cancel()
		<-done
		n.obs.set(nil, false)
		return cn.Close()
	})
	n.log.Info("cluster joined", "node", cn.ID(), "nats", cc.NATSURL, "queue", ct.queue)
	return nil
}

// pluginSynced logs a plugin the cluster wrote into (or refused for) the
// plugin directory; the plugin host's watcher loads it.
func (n *Node) pluginSynced(ps cluster.PluginSync) {
	if ps.Err != nil {
		n.log.Error("cluster plugin refused", "plugin", ps.Name, "sha256", ps.SHA256, "error", ps.Err)
		return
	}
	n.log.Info("cluster plugin synced", "plugin", ps.Name, "sha256", ps.SHA256, "path", ps.Path, "removed", ps.Removed)
}

var _ api.RemoteTaskEvents = (*clusterTasks)(nil)

// clusterTasks is the API's task service in queue mode: submissions go to
// the cluster queue, tasks this node does not hold are read from the
// snapshot bucket.
type clusterTasks struct {
	*tasks.Service
	cn    *cluster.Node
	queue bool
	kv    jetstream.KeyValue
	log   *slog.Logger
	// flush waits until the task events queued for the cluster are
	// published, so a task's steps precede its final event there.
	flush func()
}

func (c *clusterTasks) openSnapshots(ctx context.Context) error {
	js, err := jetstream.New(c.cn.Conn())
	if err != nil {
		return fmt.Errorf("task snapshots: %w", err)
	}
	st, err := c.cn.Status(ctx)
	if err != nil {
		return fmt.Errorf("task snapshots: %w", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: snapshotBucket,
		Description: "cloudphone task records of cluster tasks", TTL: 7 * 24 * time.Hour, Replicas: max(st.Replicas, 1)})
	if err != nil {
		return fmt.Errorf("task snapshots bucket %s: %w", snapshotBucket, err)
	}
	c.kv = kv
	return nil
}

// Submit validates req as the local service does and queues it in the
// cluster under the id the local service would give it, so the node that
// runs it stores it under the same id. The scheduler of that node admits
// it.
func (c *clusterTasks) Submit(ctx context.Context, req tasks.Request) (tasks.Task, bool, error) {
	if req.IdempotencyKey == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		req.IdempotencyKey = "c-" + hex.EncodeToString(b[:])
	}
	t, err := c.Validate(req)
	if err != nil {
		return tasks.Task{}, false, err
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return tasks.Task{}, false, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	body, err := json.Marshal(t)
	if err != nil {
		return tasks.Task{}, false, fmt.Errorf("encode task %s: %w", t.ID, err)
	}
	if _, err := c.kv.Create(ctx, t.ID, body); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return tasks.Task{}, false, fmt.Errorf("record task %s: %w", t.ID, err)
	}
	res, err := c.cn.Submit(ctx, cluster.Task{ID: t.ID, Tenant: t.Tenant, DeviceID: t.DeviceID, Priority: t.Priority,
		Deadline: t.Deadline, Submitted: t.CreatedAt, Payload: payload})
	if err != nil {
		return tasks.Task{}, false, fmt.Errorf("queue task %s: %w", t.ID, err)
	}
	if res.Duplicate || res.Completed != nil {
		prev, err := c.Get(ctx, "", t.ID)
		if err != nil {
			return tasks.Task{}, false, err
		}
		if prev.Instruction != t.Instruction || prev.Tenant != t.Tenant || prev.DeviceID != t.DeviceID {
			return tasks.Task{}, false, fmt.Errorf("%w: idempotency key %q was used for task %s with a different request",
				tasks.ErrConflict, req.IdempotencyKey, t.ID)
		}
		return prev, false, nil
	}
	return t, true, nil
}

// Get reads the local store, then the cluster's snapshot of the task.
func (c *clusterTasks) Get(ctx context.Context, tenant, id string) (tasks.Task, error) {
	t, err := c.Service.Get(ctx, tenant, id)
	if err == nil || !errors.Is(err, tasks.ErrNotFound) {
		return t, err
	}
	e, kerr := c.kv.Get(ctx, id)
	if errors.Is(kerr, jetstream.ErrKeyNotFound) || errors.Is(kerr, jetstream.ErrInvalidKey) {
		return tasks.Task{}, err
	}
	if kerr != nil {
		return tasks.Task{}, fmt.Errorf("read task %s from the cluster: %w", id, kerr)
	}
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return tasks.Task{}, fmt.Errorf("decode task %s from the cluster: %w", id, err)
	}
	if tenant != "" && t.Tenant != tenant {
		return tasks.Task{}, fmt.Errorf("task %s: %w", id, tasks.ErrNotFound)
	}
	return t, nil
}

// put records t in the snapshot bucket.
func (c *clusterTasks) put(ctx context.Context, t tasks.Task) {
	body, err := json.Marshal(t)
	if err == nil {
		_, err = c.kv.Put(ctx, t.ID, body)
	}
	if err != nil {
		c.log.Warn("cluster task record not written", "task", t.ID, "error", err)
	}
}

// handle runs one task the queue gave this node: it submits it to the
// local task service under the cluster's id (a redelivery to this node
// finds the task it already has), waits for its final state and reports
// it. When ctx ends first (the node is leaving) it returns at once, so the
// task goes back to the queue.
func (c *clusterTasks) handle(ctx context.Context, ct cluster.Task) error {
	var req tasks.Request
	if err := json.Unmarshal(ct.Payload, &req); err != nil {
		return fmt.Errorf("decode task %s: %w", ct.ID, err)
	}
	t, _, err := c.Service.Submit(ctx, req)
	if err != nil {
		if st, gerr := c.Service.Get(ctx, "", ct.ID); gerr == nil {
			c.put(ctx, st)
		}
		return fmt.Errorf("task %s: %w", ct.ID, err)
	}
	if t.ID != ct.ID {
		return fmt.Errorf("task %s: the payload names task %s", ct.ID, t.ID)
	}
	c.put(ctx, t)
	final, err := c.WaitFinal(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("task %s: %w", t.ID, err)
	}
	if c.flush != nil {
		c.flush()
	}
	c.put(ctx, final)
	if final.State != tasks.StateSucceeded {
		return fmt.Errorf("task %s %s: %s %s", t.ID, final.State, final.Reason, final.Message)
	}
	return nil
}

// clusterDevices lists the cluster registry's devices (every node's) in
// queue mode; backends stay the local pool's.
type clusterDevices struct {
	*pool.Pool
	cn *cluster.Node
}

func (d clusterDevices) Devices() []pool.DeviceStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := d.cn.Devices(ctx)
	if err != nil {
		return d.Pool.Devices()
	}
	out := make([]pool.DeviceStatus, 0, len(list))
	for _, cd := range list {
		s := cd.DeviceStatus
		labels := make(map[string]string, len(s.Labels)+1)
		for k, v := range s.Labels {
			labels[k] = v
		}
		if _, ok := labels["node"]; !ok {
			labels["node"] = cd.Node
		}
		s.Labels = labels
		out = append(out, s)
	}
	return out
}

// eventObserver publishes in-process tasks' agent events (steps, pauses,
// retries) as cluster task events, so any node can stream any task's steps,
// and, in embedded mode, their lifecycle too (in queue mode the cluster's
// task runner publishes queued, started and the final state). Events go out
// in order through one publisher goroutine, off the task's own goroutine.
// It passes everything on to the node's own observer.
type eventObserver struct {
	tasks.Observer
	mu        sync.RWMutex
	cn        *cluster.Node
	lifecycle bool
	q         chan queuedEvent
	done      chan struct{}
}

type queuedEvent struct {
	ev cluster.Event
	// flushed, when set, is closed once everything queued before it is
	// published (ev is not published).
	flushed chan struct{}
}

// agentEventPrefix marks cluster task events that carry an agent.Event.
const agentEventPrefix = "agent."

// set starts publishing to cn (lifecycle: also started/ended); set(nil)
// stops, after publishing what is queued.
func (o *eventObserver) set(cn *cluster.Node, lifecycle bool) {
	o.mu.Lock()
	q, done := o.q, o.done
	o.cn, o.lifecycle, o.q, o.done = cn, lifecycle, nil, nil
	if cn != nil {
		o.q, o.done = make(chan queuedEvent, 4096), make(chan struct{})
		go o.publisher(cn, o.q, o.done)
	}
	o.mu.Unlock()
	if q != nil {
		close(q)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

func (o *eventObserver) publisher(cn *cluster.Node, q chan queuedEvent, done chan struct{}) {
	defer close(done)
	for qe := range q {
		if qe.flushed != nil {
			close(qe.flushed)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = cn.Publish(ctx, qe.ev)
		cancel()
	}
}

// enqueue queues ev for publishing (lifecycle events only when asked).
func (o *eventObserver) enqueue(id, typ string, body []byte, lifecycle bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.cn == nil || (lifecycle && !o.lifecycle) {
		return
	}
	o.q <- queuedEvent{ev: cluster.Event{Kind: cluster.KindTask, ID: id, Type: typ, Node: o.cn.ID(), Time: time.Now().UTC(), Data: body}}
}

// flush waits (a while) until every event queued so far is published.
func (o *eventObserver) flush() {
	ch := make(chan struct{})
	o.mu.RLock()
	if o.cn == nil {
		o.mu.RUnlock()
		return
	}
	o.q <- queuedEvent{flushed: ch}
	o.mu.RUnlock()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
	}
}

func (o *eventObserver) publish(id, typ string, data map[string]string) {
	body, _ := json.Marshal(data)
	o.enqueue(id, typ, body, true)
}

// ObserveEvent publishes an agent event of a task running here.
func (o *eventObserver) ObserveEvent(ev agent.Event) {
	if ev.Kind != agent.EventFinished {
		if body, err := json.Marshal(ev); err == nil {
			o.enqueue(ev.TaskID, agentEventPrefix+ev.Kind, body, false)
		}
	}
	o.Observer.ObserveEvent(ev)
}

type lifecycle interface {
	TaskStarted(id, tenant, device, planner string)
	TaskEnded(id, state, reason, message string)
}

func (o *eventObserver) TaskStarted(id, tenant, device, planner string) {
	o.publish(id, "started", map[string]string{"tenant": tenant, "device": device, "planner": planner})
	if lc, ok := o.Observer.(lifecycle); ok {
		lc.TaskStarted(id, tenant, device, planner)
	}
}

func (o *eventObserver) TaskEnded(id, state, reason, message string) {
	o.publish(id, state, map[string]string{"reason": reason, "message": message})
	if lc, ok := o.Observer.(lifecycle); ok {
		lc.TaskEnded(id, state, reason, message)
	}
}

// Remote says whether task id is one this node does not hold but the
// cluster knows (api.RemoteTaskEvents).
func (c *clusterTasks) Remote(ctx context.Context, id string) bool {
	if _, err := c.Service.Get(ctx, "", id); !errors.Is(err, tasks.ErrNotFound) {
		return false
	}
	_, err := c.kv.Get(ctx, id)
	return err == nil
}

// StreamRemote streams the cluster's events of a task another node runs
// (queued, started, succeeded or failed), as task events with the
// stream's sequence; the final one is a "finished" event with the state.
func (c *clusterTasks) StreamRemote(ctx context.Context, id string, after uint64, emit func(tasks.Event) error) error {
	es, err := c.cn.Events(ctx, cluster.KindTask, id, after)
	if err != nil {
		return fmt.Errorf("events of task %s: %w", id, err)
	}
	defer es.Close()
	for {
		ev, err := es.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("events of task %s: %w", id, err)
		}
		if kind, ok := strings.CutPrefix(ev.Type, agentEventPrefix); ok {
			var ae agent.Event
			if json.Unmarshal(ev.Data, &ae) != nil {
				continue
			}
			ae.TaskID, ae.Seq, ae.Kind = id, int(ev.Seq), kind
			if err := emit(tasks.Event{Event: ae}); err != nil {
				return err
			}
			continue
		}
		te := tasks.Event{Event: agent.Event{TaskID: id, Seq: int(ev.Seq), Kind: ev.Type, Time: ev.Time,
			Message: "node " + ev.Node}}
		final := ev.Type == cluster.StateSucceeded || ev.Type == cluster.StateFailed
		if final {
			te.Kind, te.State = agent.EventFinished, tasks.StateSucceeded
			if ev.Type == cluster.StateFailed {
				te.State = tasks.StateFailed
				var comp cluster.Completion
				if json.Unmarshal(ev.Data, &comp) == nil {
					te.Error = comp.Error
				}
			}
		}
		if err := emit(te); err != nil {
			return err
		}
		if final {
			return nil
		}
	}
}
