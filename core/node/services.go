package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/api"
	"github.com/openautoglm/cloudphone/core/api/console"
	"github.com/openautoglm/cloudphone/core/api/devstream"
	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/cache"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/metrics"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
	"github.com/openautoglm/cloudphone/core/tasks"
	"github.com/openautoglm/cloudphone/core/telemetry"
	"github.com/openautoglm/cloudphone/core/vgpu"
)

// services builds the server side of a node after the pool: the store
// (data.dir), the authenticator, the vGPU model gateway, the task service
// and its scheduler, and the API over them.
func (n *Node) services(ctx context.Context, cfg *config.Config, inf *cache.Inference, log *slog.Logger) error {
	st, err := store.Open(ctx, store.Options{Dir: cfg.Data.Dir, StepRetention: cfg.Data.StepRetention,
		ScreenshotRetention: cfg.Data.ScreenshotRetention, Logger: log})
	if err != nil {
		return err
	}
	n.Store = st
	n.closers = append(n.closers, func(context.Context) error { return st.Close() })
	// Steps and screenshots past data.*_retention go hourly (and once now).
	go st.RunRetention(n.bg, time.Hour)

	au, err := auth.New(auth.Options{DataDir: cfg.Data.Dir, Disabled: cfg.API.Auth.Disabled, TokenTTL: cfg.API.Auth.TokenTTL,
		APIKeys: auth.NewStoreBackend(st), Audit: auth.NewStoreBackend(st), RegistrationSecret: cfg.API.Auth.RegistrationSecret, Logger: log})
	if err != nil {
		return err
	}
	n.Auth = au
	n.closers = append(n.closers, func(context.Context) error { au.Close(); return nil })

	var models agent.Models = n.models
	if len(cfg.VGPU.Slices) > 0 {
		gw, err := vgpu.New(vgpu.Options{Config: cfg.VGPU, Adapters: vgpu.HostAdapters(n.Host), Cache: inf, Logger: log})
		if err != nil {
			return err
		}
		gw.Cache().SetEnabled(cfg.Cache.Enabled)
		n.Gateway = gw
		models = gw
		n.closers = append(n.closers, gw.Close)
	}

	n.Metrics = metrics.New()
	if err := n.Metrics.WatchDevices(n.Pool); err != nil {
		return err
	}
	// With telemetry.otlp_endpoint, tasks are also traced (closed after the
	// task service, closers running in reverse, so the last spans export).
	var obs tasks.Observer = n.Metrics
	if ep := cfg.Telemetry.OTLPEndpoint; ep != "" {
		tr, err := telemetry.New(ctx, telemetry.Options{Endpoint: ep, Logger: log})
		if err != nil {
			return err
		}
		n.closers = append(n.closers, tr.Shutdown)
		obs = telemetry.Chain(tr, n.Metrics)
	}
	// In embedded cluster mode the task lifecycle is also published as
	// cluster events (set once the node joined, see startCluster).
	n.obs = &eventObserver{Observer: obs}
	svc, err := tasks.New(tasks.Options{Store: st, Planners: n.Host, Models: models, Screenshots: true,
		Observer: n.obs, Logger: log})
	if err != nil {
		return err
	}
	n.Tasks = svc
	sc, err := sched.New(sched.Options{Config: cfg.Sched, Devices: &sched.PoolDevices{Pool: n.Pool},
		Run: sched.PoolRun(svc.Dispatch), Logger: log})
	if err != nil {
		return err
	}
	n.Sched = sc
	// The task service closes (interrupting running tasks, recording
	// them) before the gateway, the pool and the store it uses.
	n.closers = append(n.closers, svc.Close)

	hub := devstream.New(devstream.Options{Source: n.Pool, AuthOff: cfg.API.Auth.Disabled, Logger: log})
	n.devstream = hub
	n.API = &api.Server{Plugins: n.Host, Devices: n.Pool, Backends: n.Host, Tasks: svc, Auth: au.Middleware,
		Audit: api.AuditHandler(st), Credentials: au, Keys: st, Metrics: n.Metrics.Handler(), Instrument: n.Metrics.Middleware, Console: console.Handler(),
		MaxBodyBytes: int64(cfg.API.MaxBodyKiB) << 10, Ready: n.ready, Logger: log,
		Extra: au.Handlers()}
	n.API.Extra["GET /api/v1/devices/stream"] = hub
	// A single node installs pushed plugins itself; a node in queue mode
	// pushes them to the cluster instead (startCluster).
	n.API.PushPlugin = n.installPlugin
	if c := cfg.API.TLS; c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return fmt.Errorf("api.tls: %w", err)
		}
		n.API.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if n.Gateway != nil {
		gw := n.Gateway
		n.API.Slices = func() any { return gw.Slices() }
	}
	return nil
}

// startServices recovers the store's unfinished tasks and starts
// dispatching (after the plugins loaded and the pool synced).
func (n *Node) startServices(ctx context.Context) error {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Sched.Run(sctx) }()
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = n.devstream.Run(sctx) }()
	if n.Gateway != nil {
		go n.sliceMetrics(sctx)
	}
	// The scheduler stops dispatching before the task service closes.
	n.closers = append(n.closers, func(context.Context) error { cancel(); <-done; <-hubDone; return nil })
	if err := n.Tasks.Start(ctx, n.Sched); err != nil {
		return err
	}
	if err := n.startCluster(ctx, n.Config()); err != nil {
		return err
	}
	n.readyState.started.Store(true)
	return nil
}

// readiness is what /readyz checks.
type readiness struct{ started atomic.Bool }

// ready reports whether the node serves tasks: the store is open, the
// plugin directory was loaded and every enabled device backend was listed
// at least once.
func (n *Node) ready() error {
	if !n.readyState.started.Load() {
		return errors.New("starting: plugins loading, tasks recovering")
	}
	if n.Store == nil {
		return errors.New("no store")
	}
	for _, b := range n.Pool.Backends() {
		if b.LastSync == nil {
			return fmt.Errorf("device backend %s not listed yet (%s)", b.Name, b.Status)
		}
	}
	return nil
}

// sliceMetrics copies the gateway's slice usage into the metrics every
// second.
func (n *Node) sliceMetrics(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	prev := map[string]vgpu.SliceStatus{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, s := range n.Gateway.Slices() {
			used := 0.0
			if p, ok := prev[s.Name]; ok && s.Elapsed > p.Elapsed {
				used = float64(s.GPUTime-p.GPUTime) / float64(s.Elapsed-p.Elapsed)
			}
			prev[s.Name] = s
			n.Metrics.SetRingDepth(s.Name, s.QueueDepth+s.InFlight)
			n.Metrics.SetSliceUsage(s.Name, metrics.SliceUsage{Share: float64(s.ComputePercent) / 100, Used: used,
				MemoryUsed: s.MemoryUsedMiB << 20, MemoryLimit: s.MemoryMiB << 20})
		}
	}
}

// recordPluginEvent counts a plugin load or reload in the metrics and
// appends it to the audit log. It runs under the plugin host's lock, so
// the audit write happens on its own goroutine.
func (n *Node) recordPluginEvent(ev pluginhost.Event) {
	result := ""
	switch ev.Action {
	case pluginhost.ActionLoaded, pluginhost.ActionSwapped, pluginhost.ActionRecovered:
		result = metrics.ReloadOK
	case pluginhost.ActionRejected:
		result = metrics.ReloadRejected
	case pluginhost.ActionCrashed:
		result = metrics.ReloadFailed
	default:
		return
	}
	n.Metrics.PluginReload(ev.Plugin, result, ev.Duration)
	if a := n.Auth; a != nil {
		e := auth.Entry{Time: ev.Time, Actor: "system", Tenant: auth.DefaultTenant, Action: "plugin." + ev.Action,
			Target: ev.Plugin, Result: "ok", Details: map[string]any{"file": ev.File, "version": ev.Version,
				"previous_version": ev.Previous, "sha256": ev.SHA256}}
		if ev.Error != "" {
			e.Result = "failed"
			e.Details["error"] = ev.Error
		}
		if e.Target == "" {
			e.Target = ev.File
		}
		go a.Record(context.Background(), e)
	}
}
