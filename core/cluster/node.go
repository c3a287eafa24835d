package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/openautoglm/cloudphone/core/pool"
)

// Options configure a Node. Zero values take the defaults stated.
type Options struct {
	// NATSURL names an existing NATS cluster (comma-separated URLs, config
	// cluster.nats_url). Empty starts an embedded server under DataDir.
	NATSURL string
	// DataDir holds the embedded server's JetStream store (DataDir/nats).
	DataDir string
	// Listen is the embedded server's client address; empty (the default)
	// serves in-process connections only.
	Listen string

	// NodeID names this node in the cluster (default: the host name). Two
	// live nodes must not share one.
	NodeID string
	// Replicas is the replica count of the streams and buckets the node
	// creates (default: 1 for an embedded server, otherwise 3 when the
	// cluster has at least three servers, else 1).
	Replicas int
	// AckWait is how long a task may go without an in-progress ack before
	// JetStream redelivers it to another node (default 30s). Every node
	// must use the same value. In-progress acks go out every AckWait/3.
	AckWait time.Duration
	// DeviceTTL is how long a device or node record outlives its node's
	// last heartbeat (default 15s). Heartbeats go out every DeviceTTL/3.
	DeviceTTL time.Duration
	// EventsMaxAge is how long task and device events are kept (default
	// 24h).
	EventsMaxAge time.Duration
	// CompletionTTL is how long completion records are kept; a task id
	// submitted again within it is reported as already completed
	// (default 7 days).
	CompletionTTL time.Duration

	// Devices reports this node's phones (pool.Pool.Devices); nil: none.
	Devices func() []pool.DeviceStatus
	// Concurrency bounds the tasks Run holds at once (default: the number
	// of this node's devices when Run starts, at least 1).
	Concurrency int
	// Tenants limits the tenants whose tasks this node serves (empty: all).
	Tenants []string

	// PluginDir, when set, receives the plugins pushed to the cluster.
	PluginDir string
	// Pins returns name → sha256 (config plugins.pin); a pushed plugin
	// whose hash differs from its pin is refused. Nil: no pins.
	Pins func() map[string]string
	// OnPlugin is told of every plugin sync, written or refused.
	OnPlugin func(PluginSync)
	// Prepare, when set, is handed each fetched and verified plugin file
	// under its hidden temporary name before it is renamed into
	// PluginDir (the plugin host compiles a wasm module there, so the swap
	// that follows only starts it). Its error is logged; the file is
	// published anyway and the host refuses it with the reason.
	Prepare func(ctx context.Context, name, path string) error

	// Logger is the node's logger (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) defaults() error {
	if o.NodeID == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("node id: %w", err)
		}
		o.NodeID = h
	}
	if o.AckWait == 0 {
		o.AckWait = 30 * time.Second
	}
	if o.DeviceTTL == 0 {
		o.DeviceTTL = 15 * time.Second
	}
	if o.EventsMaxAge == 0 {
		o.EventsMaxAge = 24 * time.Hour
	}
	if o.CompletionTTL == 0 {
		o.CompletionTTL = 7 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.AckWait < 300*time.Millisecond:
		return fmt.Errorf("ack wait %s is below 300ms", o.AckWait)
	case o.DeviceTTL < 300*time.Millisecond:
		return fmt.Errorf("device ttl %s is below 300ms", o.DeviceTTL)
	case o.Replicas < 0 || o.Replicas > 5:
		return fmt.Errorf("replicas %d is not between 1 and 5", o.Replicas)
	case o.Concurrency < 0:
		return fmt.Errorf("concurrency %d is negative", o.Concurrency)
	case o.NATSURL == "" && o.DataDir == "":
		return fmt.Errorf("an embedded server needs a data directory")
	}
	return nil
}

// Node is one cloudphone node's membership in the cluster. Its methods are
// safe for concurrent use.
type Node struct {
	opts Options
	log  *slog.Logger
	srv  *Server // nil when joined to an external cluster
	nc   *nats.Conn
	js   jetstream.JetStream

	tasks    jetstream.Stream
	workers  jetstream.Consumer
	devices  jetstream.KeyValue
	nodes    jetstream.KeyValue
	done     jetstream.KeyValue
	progress jetstream.KeyValue
	plugins  jetstream.ObjectStore

	running  atomic.Int64
	capacity atomic.Int64

	mu      sync.Mutex
	put     map[string]bool   // registry keys this node wrote last heartbeat
	states  map[string]string // device id → state at the last heartbeat
	synced  map[string]string // plugin name → sha256 this node wrote
	refused map[string]bool   // plugin name NUL sha256 already refused

	// opTimeout bounds each JetStream operation around a task (5s).
	opTimeout time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// Open joins the cluster (starting the embedded server when no URL is
// given), creates or updates the shared streams and buckets, and starts
// the node's heartbeats and, with a plugin directory, the plugin sync.
// Close leaves.
func Open(ctx context.Context, opts Options) (*Node, error) {
	if err := opts.defaults(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{opts: opts, log: opts.Logger.With("node", opts.NodeID), opTimeout: 5 * time.Second, put: map[string]bool{},
		synced: map[string]string{}, refused: map[string]bool{}}
	if err := n.connect(); err != nil {
		return nil, err
	}
	if err := n.setup(ctx); err != nil {
		n.shutdownConn()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.heartbeat(ctx)
	n.wg.Add(1)
	go n.heartbeats(bg)
	if opts.PluginDir != "" {
		if err := os.MkdirAll(opts.PluginDir, 0o755); err != nil {
			n.Close()
			return nil, fmt.Errorf("cluster: plugin dir %s: %w", opts.PluginDir, err)
		}
		if err := n.startPluginSync(bg); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

func (n *Node) connect() error {
	copts := []nats.Option{
		nats.Name("cloudphone " + n.opts.NodeID),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { n.log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	}
	if n.opts.NATSURL == "" {
		dir := filepath.Join(n.opts.DataDir, "nats")
		srv, err := StartServer(ServerOptions{Name: n.opts.NodeID, StoreDir: dir, Listen: n.opts.Listen, Logger: n.log})
		if err != nil {
			return fmt.Errorf("cluster: embedded server in %s: %w", dir, err)
		}
		n.srv = srv
		copts = append(copts, nats.InProcessServer(srv.inProcess()))
	}
	nc, err := nats.Connect(n.opts.NATSURL, copts...)
	if err != nil {
		if n.srv != nil {
			n.srv.Shutdown()
		}
		return fmt.Errorf("cluster: connect to nats %q: %w", n.opts.NATSURL, err)
	}
	n.nc = nc
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
		n.log.Warn("event not stored", "subject", m.Subject, "err", err)
	}))
	if err != nil {
		n.shutdownConn()
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	n.js = js
	return nil
}

func (n *Node) replicas() int {
	if n.opts.Replicas > 0 {
		return n.opts.Replicas
	}
	if n.srv != nil || n.nc.ConnectedClusterName() == "" {
		return 1
	}
	if len(n.nc.Servers()) >= 3 {
		return 3
	}
	return 1
}

// setup creates or updates the shared streams and buckets. Every node runs
// it with the same configuration, so concurrent runs agree.
func (n *Node) setup(ctx context.Context) error {
	r := n.replicas()
	var err error
	// A cluster that has just elected its leader (or is electing a new
	// one) may time out or answer no responders: each step is retried
	// until ctx ends.
	step := func(what string, f func(ctx context.Context) error) {
		for attempt := 1; err == nil; attempt++ {
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			e := f(actx)
			cancel()
			if e == nil {
				return
			}
			if ctx.Err() != nil || !retryable(e) {
				err = fmt.Errorf("cluster: create %s: %w", what, e)
				return
			}
			n.log.Warn("cluster setup: retrying", "step", what, "attempt", attempt, "err", e)
			sleepCtx(ctx, time.Duration(min(attempt, 10))*100*time.Millisecond)
		}
	}
	step(streamTasks, func(ctx context.Context) (e error) {
		n.tasks, e = n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: streamTasks, Subjects: []string{subjTasks + ".>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Replicas: r, Duplicates: 2 * time.Minute,
			Description: "cloudphone task queue",
		})
		return e
	})
	step(consumerWorkers, func(ctx context.Context) (e error) {
		n.workers, e = n.js.CreateOrUpdateConsumer(ctx, streamTasks, jetstream.ConsumerConfig{
			Durable: consumerWorkers, AckPolicy: jetstream.AckExplicitPolicy, AckWait: n.opts.AckWait,
			MaxAckPending: -1, MaxDeliver: -1, FilterSubject: subjTasks + ".>", Replicas: r,
			MaxRequestBatch: 256, Description: "cloudphone nodes pulling tasks",
		})
		return e
	})
	step(streamEvents, func(ctx context.Context) (e error) {
		_, e = n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: streamEvents, Subjects: []string{subjEvents + ".>"}, Retention: jetstream.LimitsPolicy,
			Storage: jetstream.FileStorage, Replicas: r, MaxAge: n.opts.EventsMaxAge, Discard: jetstream.DiscardOld,
			Description: "cloudphone task and device events",
		})
		return e
	})
	kv := func(dst *jetstream.KeyValue, bucket string, ttl time.Duration) func(context.Context) error {
		return func(ctx context.Context) (e error) {
			*dst, e = n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket: bucket, History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: r,
			})
			return e
		}
	}
	step(bucketDevices, kv(&n.devices, bucketDevices, n.opts.DeviceTTL))
	step(bucketNodes, kv(&n.nodes, bucketNodes, n.opts.DeviceTTL))
	step(bucketDone, kv(&n.done, bucketDone, n.opts.CompletionTTL))
	step(bucketProgress, kv(&n.progress, bucketProgress, n.opts.CompletionTTL))
	step(bucketPlugins, func(ctx context.Context) (e error) {
		n.plugins, e = n.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: bucketPlugins, Storage: jetstream.FileStorage, Replicas: r,
			Description: "cloudphone plugins pushed to every node",
		})
		return e
	})
	return err
}

// retryable reports whether a JetStream API error may pass by itself.
func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrConnectionReconnecting)
}

// ID is the node's id.
func (n *Node) ID() string { return n.opts.NodeID }

// Conn is the node's NATS connection (for callers that publish their own
// subjects; do not close it).
func (n *Node) Conn() *nats.Conn { return n.nc }

// Server is the embedded server, nil when the node joined an external
// cluster.
func (n *Node) Server() *Server { return n.srv }

// Close leaves the cluster: it stops heartbeats and the plugin sync,
// removes this node's devices and node record so they disappear at once
// rather than after the TTL, and closes the connection (and the embedded
// server). Tasks still running under Run are not waited for: cancel Run's
// context first and wait for it to return.
func (n *Node) Close() error {
	if n.closed.Swap(true) {
		return nil
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.deregister(ctx)
	n.shutdownConn()
	return nil
}

func (n *Node) shutdownConn() {
	if n.nc != nil {
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			n.nc.Close()
		}
		for i := 0; i < 100 && !n.nc.IsClosed(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		n.nc.Close()
	}
	if n.srv != nil {
		n.srv.Shutdown()
	}
}

func (n *Node) servesTenant(tenant string) bool {
	if len(n.opts.Tenants) == 0 {
		return true
	}
	for _, t := range n.opts.Tenants {
		if strings.EqualFold(t, tenant) {
			return true
		}
	}
	return false
}
