package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/openautoglm/cloudphone/core/api"
	"github.com/openautoglm/cloudphone/core/api/devstream"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/metrics"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
	"github.com/openautoglm/cloudphone/core/tasks"
	"github.com/openautoglm/cloudphone/core/vgpu"
)

// Options say where a Node's config comes from.
type Options struct {
	// ConfigFile is the YAML file (optional).
	ConfigFile string
	// Flags and FlagKeys override config keys (see config.LoadOptions).
	Flags    *pflag.FlagSet
	FlagKeys map[string]string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Level, when set, follows log.level (also on live reload).
	Level *slog.LevelVar
	// Env is the environment the config reads CLOUDPHONE_ variables from
	// (default os.Environ()).
	Env []string
	// Server builds the server side too: the store in data.dir, auth,
	// the vGPU gateway, the scheduler and the task service (`cloudphone
	// serve`). Without it a node is only the runtime (plugins, pool,
	// models) for in-process commands such as `cloudphone run`, which so
	// never touch a server's data in the same data.dir.
	Server bool
}

// Node is one running cloudphone node.
type Node struct {
	Host *pluginhost.Host
	// Pool lends the devices of the enabled backends (devices.backends).
	Pool *pool.Pool
	API  *api.Server
	// Store keeps tasks, events, screenshots, API keys and the audit log
	// under data.dir.
	Store *store.Store
	// Auth authenticates API callers and signs tokens (key in data.dir).
	Auth *auth.Authenticator
	// Gateway is the vGPU model gateway tasks infer through (nil when
	// vgpu.slices is empty: then Models()).
	Gateway *vgpu.Gateway
	// Tasks runs submitted tasks; Sched admits and dispatches them.
	Tasks *tasks.Service
	Sched *sched.Scheduler
	// Metrics is the Prometheus registry served at /metrics.
	Metrics *metrics.Metrics
	// Cluster is the node's membership in the cluster (core/cluster),
	// joined by Start on a server node.
	Cluster *cluster.Node

	clusterTasks *clusterTasks
	obs          *eventObserver

	models   *cache.Models
	log      *slog.Logger
	cfg      *config.Watcher
	rt       *wasmrt.Runtime
	watch    *pluginhost.Watcher
	apiAddr  net.Addr
	closers  []func(context.Context) error
	stopping context.CancelFunc
	// bg lives until Close: background work (retention, ring recovery).
	bg    context.Context
	level *slog.LevelVar
	// readyState is what /readyz reports.
	readyState readiness
	devstream  *devstream.Hub
}

// New loads the config and builds the node's services; nothing is served
// until Start.
func New(ctx context.Context, opts Options) (*Node, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	n := &Node{log: log, level: opts.Level}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.stopping = cancel
	n.bg = wctx
	lo := config.LoadOptions{File: opts.ConfigFile, Flags: opts.Flags, FlagKeys: opts.FlagKeys, Env: opts.Env}
	cw, err := config.Watch(wctx, lo, n.configChanged, func(err error) {
		log.Error("config edit rejected; the running config stays", "error", err)
	})
	if err != nil {
		cancel()
		return nil, err
	}
	n.cfg = cw
	if n.level != nil {
		n.level.Set(cw.Current().Log.SlogLevel())
	}
	n.closers = append(n.closers, func(context.Context) error { return cw.Close() })
	cfg := cw.Current()

	for _, d := range []string{cfg.Data.Dir, cfg.Plugins.Dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			n.Close(ctx)
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	rt, err := wasmrt.NewRuntime(ctx, wasmrt.Options{
		CacheDir:            filepath.Join(cfg.Data.Dir, "wasm-cache"),
		MemoryLimitMiB:      uint32(cfg.Plugins.WASM.MemoryLimitMiB),
		CallTimeout:         cfg.Plugins.WASM.CallTimeout,
		PoolSize:            cfg.Plugins.WASM.PoolSize,
		MaxCallsPerInstance: cfg.Plugins.WASM.MaxCallsPerInstance,
		Logger:              log,
	})
	if err != nil {
		n.Close(ctx)
		return nil, err
	}
	n.rt = rt
	n.closers = append(n.closers, rt.Close)
	n.Host = pluginhost.New(pluginhost.Options{
		Dir:      cfg.Plugins.Dir,
		StageDir: filepath.Join(cfg.Data.Dir, "plugin-bin"),
		Loaders: pluginhost.Loaders(rt, procrt.Options{
			Logger:       log,
			StartTimeout: cfg.Plugins.Process.StartTimeout,
		}),
		Pins:         func() map[string]string { return cw.Current().Plugins.Pin },
		PluginConfig: func(name string) []byte { return cw.Current().PluginConfigJSON(name) },
		OnEvent:      n.pluginEvent,
		Logger:       log,
	})
	// The host closes before the runtime its modules run on.
	n.closers = append(n.closers, n.Host.Close)
	inf, err := cache.NewInference(inferenceOptions(cfg.Cache))
	if err != nil {
		n.Close(ctx)
		return nil, err
	}
	n.closers = append(n.closers, func(context.Context) error { inf.Close(); return nil })
	n.models = cache.NewModels(n.Host, inf, log)
	n.models.SetEnabled(cfg.Cache.Enabled)
	p, err := pool.New(pool.Options{Backends: n.Host, Config: cfg.Devices, Logger: log, PluginState: n.pluginState})
	if err != nil {
		n.Close(ctx)
		return nil, err
	}
	n.Pool = p
	// The pool closes (telling lease holders) before the host.
	n.closers = append(n.closers, func(context.Context) error { return p.Close() })
	if !opts.Server {
		n.API = &api.Server{Plugins: n.Host, Devices: n.Pool, Backends: n.Host, Logger: log}
		return n, nil
	}
	if err := n.services(ctx, cfg, inf, log); err != nil {
		n.Close(ctx)
		return nil, err
	}
	return n, nil
}

// pluginEvent has the pool read a backend's devices as soon as its plugin
// (re)loads. It runs under the host's lock: it only signals.
func (n *Node) pluginEvent(ev pluginhost.Event) {
	n.recordPluginEvent(ev)
	switch ev.Action {
	case pluginhost.ActionLoaded, pluginhost.ActionSwapped, pluginhost.ActionRecovered:
		if n.Pool != nil {
			n.Pool.SyncSoon()
		}
		// A model plugin's new process attaches to its shared-memory
		// ring again; commands its old one held are retried (vgpu).
		if g := n.Gateway; g != nil && ev.Action != pluginhost.ActionLoaded {
			go func() {
				if err := g.Recovered(n.bg, ev.Plugin); err != nil {
					n.log.Warn("model ring not recovered", "plugin", ev.Plugin, "error", err)
				}
			}()
		}
	}
}

// pluginState reports a backend plugin's state for the pool's backend
// status.
func (n *Node) pluginState(name string) (string, string) {
	for _, s := range n.Host.Status() {
		if s.Name == name && s.State != pluginhost.StateRejected {
			return s.State, s.Error
		}
	}
	for _, s := range n.Host.Status() {
		if s.Name == name {
			return s.State, s.Error
		}
	}
	return "not loaded", "no plugin of this name in the plugin directory"
}

// Config is the running config.
func (n *Node) Config() *config.Config { return n.cfg.Current() }

// Models is what agents infer through: the plugin host behind the
// inference cache (cache.*). Give it to agent.Runner.Models in place of
// Host.
func (n *Node) Models() *cache.Models { return n.models }

func inferenceOptions(c config.CacheConfig) cache.InferenceOptions {
	return cache.InferenceOptions{MaxBytes: int64(c.InferenceMaxMiB) << 20, TTL: c.InferenceTTL}
}

// Start loads the plugin directory, starts watching it, recovers the
// store's unfinished tasks, starts dispatching, and binds the API listener
// (when listen is true). Plugins that fail to load are reported
// and do not stop the node.
func (n *Node) Start(ctx context.Context, listen bool) error {
	cfg := n.Config()
	if err := n.Host.LoadDir(ctx); err != nil {
		n.log.Warn("some plugins were rejected", "error", err)
	}
	n.Pool.Start(ctx)
	w, err := n.Host.Watch(ctx, pluginhost.WatchOptions{Debounce: cfg.Plugins.Debounce})
	if err != nil {
		return err
	}
	n.watch = w
	n.closers = append(n.closers, func(context.Context) error { return w.Close() })
	if n.Tasks != nil {
		if err := n.startServices(ctx); err != nil {
			return err
		}
	}
	if listen {
		addr, err := n.API.Listen(cfg.API.Listen)
		if err != nil {
			return err
		}
		n.apiAddr = addr
	}
	return nil
}

// Addr is where the API listens (after Start with listen).
func (n *Node) Addr() net.Addr { return n.apiAddr }

// URL is the API's base URL (after Start with listen): https when api.tls
// is configured.
func (n *Node) URL() string {
	if n.API.TLS != nil {
		return "https://" + n.apiAddr.String()
	}
	return "http://" + n.apiAddr.String()
}

// Serve serves the API until ctx ends.
func (n *Node) Serve(ctx context.Context) error { return n.API.Serve(ctx) }

// Close stops everything in reverse order of start.
func (n *Node) Close(ctx context.Context) error {
	n.stopping()
	var errs []error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	n.closers = nil
	return errors.Join(errs...)
}

// configChanged applies a valid config edit: plugins whose section changed
// are configured again; pins apply to the next load.
func (n *Node) configChanged(old, next *config.Config) {
	changed := config.Diff(old, next)
	n.log.Info("config reloaded", "changed", strings.Join(changed, ", "))
	if n.level != nil {
		n.level.Set(next.Log.SlogLevel())
	}
	var names []string
	seen := map[string]bool{}
	for _, k := range changed {
		if rest, ok := strings.CutPrefix(k, "plugins.config."); ok {
			name, _, _ := strings.Cut(rest, ".")
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	if n.Pool != nil && slices.ContainsFunc(changed, func(k string) bool { return strings.HasPrefix(k, "devices.") }) {
		if err := n.Pool.SetConfig(next.Devices); err != nil {
			n.log.Error("device pool settings not applied", "error", err)
		}
	}
	changedUnder := func(prefix string) bool {
		return slices.ContainsFunc(changed, func(k string) bool { return strings.HasPrefix(k, prefix) })
	}
	if n.Sched != nil && changedUnder("sched.") {
		if err := n.Sched.SetConfig(next.Sched); err != nil {
			n.log.Error("scheduler settings not applied", "error", err)
		}
	}
	if n.Gateway != nil && changedUnder("vgpu.") {
		if err := n.Gateway.SetConfig(next.VGPU); err != nil {
			n.log.Error("vgpu settings not applied", "error", err)
		}
	}
	if n.Gateway != nil {
		n.Gateway.Cache().SetEnabled(next.Cache.Enabled)
	}
	if n.models != nil {
		n.models.SetEnabled(next.Cache.Enabled)
		n.models.Cache().Resize(inferenceOptions(next.Cache))
		if len(names) > 0 { // the model behind a name may have changed
			n.models.Cache().Clear()
		}
	}
	if n.Host != nil && len(names) > 0 {
		if err := n.Host.Reconfigure(context.Background(), names); err != nil {
			n.log.Error("plugin reconfigure failed", "error", err)
		}
	}
}
