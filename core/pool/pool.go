package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Errors callers may test for with errors.Is.
var (
	// ErrClosed: the pool is closed.
	ErrClosed = errors.New("device pool closed")
	// ErrNoDevice: no device in the pool matches the request at all.
	ErrNoDevice = errors.New("no matching device")
	// ErrBusy: devices match, but none is free.
	ErrBusy = errors.New("no matching device is free")
	// ErrQuota: the tenant's quota stops the lease.
	ErrQuota = errors.New("tenant quota")
	// ErrLost is wrapped by the reason of a lease lost to a device failure
	// or a backend that went away.
	ErrLost = errors.New("lease lost")
	// ErrExpired is wrapped by the reason of a lease whose TTL ran out.
	ErrExpired = errors.New("lease expired")
	// ErrReleased: the lease was released already.
	ErrReleased = errors.New("lease released")
)

// Backends reaches device backend plugins by name. *pluginhost.Host
// satisfies it: each call leases the backend's serving version.
type Backends interface {
	WithDevice(name string, fn func(pluginhost.Device) error) error
}

// Options configure a Pool.
type Options struct {
	// Backends is how the pool reaches backend plugins (required).
	Backends Backends
	// Config is the devices section (config.Default().Devices when zero).
	Config config.DevicesConfig
	// Now is the clock (default time.Now). Lease expiry, idle times and
	// scaling thresholds read it; the loops' periods are real time.
	Now func() time.Time
	// Tick is the period of housekeeping: lease expiry and elastic sizing
	// (default 500ms).
	Tick time.Duration
	// PluginState, when set, says how a backend plugin is doing
	// ("active", "crashed", "" when not loaded) for BackendStatus.
	PluginState func(name string) (state, errMsg string)
	// CallTimeout bounds one List or Health call (default: the heartbeat
	// interval, at least 1s); Provision and Release get ProvisionTimeout.
	CallTimeout time.Duration
	// ProvisionTimeout bounds one Provision or Release (default 5m).
	ProvisionTimeout time.Duration
	Logger           *slog.Logger
}

// Health states of a device.
const (
	HealthUnknown   = "unknown"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// Device states, as DeviceStatus reports them.
const (
	StateFree      = "free"
	StateLeased    = "leased"
	StateDrained   = "drained"   // unhealthy: no new leases
	StateBooting   = "booting"   // the backend says it is booting
	StateOffline   = "offline"   // the backend says it is offline or unhealthy
	StateMissing   = "missing"   // leased, but its backend no longer lists it
	StateReleasing = "releasing" // elastic sizing is giving it back
)

// health codes, kept small in device.
const (
	hUnknown uint8 = iota
	hHealthy
	hUnhealthy
)

// device is one registered device. Every field is guarded by Pool.mu.
type device struct {
	key         string // "<backend>/<id>"
	id          string
	b           *backend
	labels      map[string]string
	taints      []taint // the device's own, from its "taints" label
	bstate      cpv1.DeviceState
	provisioned bool
	listed      bool
	removing    bool
	health      uint8
	misses      int32
	healthMsg   string
	lastOK      time.Time
	lease       *Lease
	freeSince   time.Time
}

// leasable reports whether a new lease may take d.
func (d *device) leasable() bool {
	return d.lease == nil && !d.removing && d.health != hUnhealthy && d.listed &&
		d.bstate == cpv1.DeviceState_DEVICE_STATE_READY
}

func (d *device) state() string {
	switch {
	case d.lease != nil && !d.listed:
		return StateMissing
	case d.lease != nil:
		return StateLeased
	case d.removing:
		return StateReleasing
	case d.health == hUnhealthy:
		return StateDrained
	case d.bstate == cpv1.DeviceState_DEVICE_STATE_BOOTING:
		return StateBooting
	case d.bstate != cpv1.DeviceState_DEVICE_STATE_READY || !d.listed:
		return StateOffline
	}
	return StateFree
}

// backend is one enabled backend plugin. Guarded by Pool.mu.
type backend struct {
	name      string
	cfg       config.BackendConfig
	taints    []taint
	status    string // the backend's own status line, or the last error
	ok        bool
	synced    bool
	lastSync  time.Time
	pending   int // provisions in flight
	busySince time.Time
	backoff   time.Time // no scaling before this, after a failure
}

// Pool is the device registry. It is safe for concurrent use.
type Pool struct {
	opts     Options
	log      *slog.Logger
	backends Backends
	now      func() time.Time

	mu      sync.Mutex
	cfg     config.DevicesConfig
	devs    map[string]*device
	order   []*device // configured devices first, then provisioned; by key
	bk      map[string]*backend
	leases  map[string]*Lease
	held    map[string]int // tenant → devices held
	waiters []*waiter
	seq     uint64
	closed  bool

	syncNow chan struct{}
	changed chan struct{} // see Changes
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a pool with no devices; Start begins syncing.
func New(opts Options) (*Pool, error) {
	if opts.Backends == nil {
		return nil, errors.New("pool: no backends")
	}
	if opts.Config.Heartbeat.Interval == 0 {
		opts.Config = config.Default().Devices
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = 500 * time.Millisecond
	}
	if opts.ProvisionTimeout <= 0 {
		opts.ProvisionTimeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{
		opts: opts, log: opts.Logger.With("component", "pool"), backends: opts.Backends, now: opts.Now,
		devs: map[string]*device{}, bk: map[string]*backend{}, leases: map[string]*Lease{},
		held: map[string]int{}, syncNow: make(chan struct{}, 1), changed: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel,
	}
	if err := p.SetConfig(opts.Config); err != nil {
		cancel()
		return nil, err
	}
	return p, nil
}

// SetConfig applies a devices section: backends enabled or disabled,
// labels, taints, quotas, thresholds. Devices of a backend that is no
// longer enabled leave the pool, and their leases are lost. New labels
// apply from the next sync (SetConfig asks for one).
func (p *Pool) SetConfig(cfg config.DevicesConfig) error {
	parsed := map[string][]taint{}
	for name, b := range cfg.Backends {
		ts, err := parseTaints(b.Taints)
		if err != nil {
			return fmt.Errorf("pool: devices.backends.%s: %w", name, err)
		}
		parsed[name] = ts
	}
	p.mu.Lock()
	p.cfg = cfg
	for name, b := range p.bk {
		if c, ok := cfg.Backends[name]; ok && c.Enabled {
			continue
		}
		delete(p.bk, name)
		for _, d := range slices.Clone(p.order) {
			if d.b == b {
				if d.lease != nil {
					p.loseLocked(d.lease, fmt.Errorf("%w: backend %s was disabled in devices.backends", ErrLost, name))
				}
				p.removeLocked(d)
			}
		}
	}
	for name, c := range cfg.Backends {
		if !c.Enabled {
			continue
		}
		b := p.bk[name]
		if b == nil {
			b = &backend{name: name, status: "not synced yet"}
			p.bk[name] = b
		}
		b.cfg, b.taints = c, parsed[name]
	}
	p.dispatchLocked()
	p.mu.Unlock()
	p.SyncSoon()
	return nil
}

// Start runs the pool's loops (sync, heartbeats, housekeeping) until
// Close. It syncs every backend once before it returns.
func (p *Pool) Start(ctx context.Context) {
	p.Sync(ctx)
	p.wg.Add(3)
	go p.syncLoop()
	go p.heartbeatLoop()
	go p.tickLoop()
}

// Close stops the loops and ends every lease (the holders are told) and
// every wait.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if n := len(p.leases); n > 0 {
		p.log.Info("device pool closing; ending its leases", "leases", n)
	}
	for _, l := range p.leases {
		p.loseLocked(l, fmt.Errorf("%w: %w", ErrLost, ErrClosed))
	}
	for _, w := range p.waiters {
		close(w.ch)
	}
	p.waiters = nil
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return nil
}

// Changes is signalled when a device may have become leasable: a lease
// was released, lost or expired, a backend's devices were listed, a
// device passed a health check, elastic sizing added or removed a
// phone, or the config changed. A signal is never blocked on: at most
// one is pending, so a reader that drains it and then scans (Lease with
// NoWait) misses nothing. It is meant for one reader, the scheduler
// (core/sched), which orders waiting tasks itself.
func (p *Pool) Changes() <-chan struct{} { return p.changed }

// SyncSoon asks the sync loop to read every backend's List now.
func (p *Pool) SyncSoon() {
	select {
	case p.syncNow <- struct{}{}:
	default:
	}
}

func (p *Pool) syncLoop() {
	defer p.wg.Done()
	for {
		t := time.NewTimer(p.config().SyncInterval)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-p.syncNow:
			t.Stop()
		}
		p.Sync(p.ctx)
	}
}

func (p *Pool) tickLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			p.sweep()
		}
	}
}

func (p *Pool) config() config.DevicesConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}

func (p *Pool) callTimeout() time.Duration {
	if p.opts.CallTimeout > 0 {
		return p.opts.CallTimeout
	}
	return max(p.config().Heartbeat.Interval, time.Second)
}

// enabled lists the enabled backends' names in order.
func (p *Pool) enabled() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := slices.Collect(maps.Keys(p.bk))
	slices.Sort(names)
	return names
}

// Sync reads every enabled backend's List now and updates the registry.
// A backend whose List fails keeps its devices (their heartbeats decide
// their fate); its status records the error.
func (p *Pool) Sync(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range p.enabled() {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, p.callTimeout())
			defer cancel()
			var resp *cpv1.ListResponse
			err := p.backends.WithDevice(name, func(d pluginhost.Device) (err error) {
				resp, err = d.List(cctx, &cpv1.ListRequest{})
				return err
			})
			p.applyList(name, resp, err)
		})
	}
	wg.Wait()
}

// applyList merges one backend's List into the registry.
func (p *Pool) applyList(name string, resp *cpv1.ListResponse, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bk[name]
	if b == nil {
		return
	}
	if err != nil {
		if b.ok || !b.synced {
			p.log.Warn("backend list failed; its devices stay until their heartbeats fail", "backend", name, "error", err)
		}
		b.status, b.ok, b.synced = "list: "+err.Error(), false, true
		return
	}
	// A non-empty backend_status means the engine cannot be reached; the
	// devices listed (if any) still count.
	b.status, b.ok, b.synced, b.lastSync = resp.GetBackendStatus(), resp.GetBackendStatus() == "", true, p.now()
	if b.status == "" {
		b.status = "ok"
	}
	seen := make(map[string]bool, len(resp.GetDevices()))
	for _, info := range resp.GetDevices() {
		if info.GetId() == "" {
			continue
		}
		seen[info.GetId()] = true
		p.upsertLocked(b, info)
	}
	for _, d := range slices.Clone(p.order) {
		if d.b != b || seen[d.id] {
			continue
		}
		if d.lease == nil && !d.removing {
			p.removeLocked(d)
			continue
		}
		d.listed = false
	}
	p.dispatchLocked()
}

// upsertLocked adds or updates the device info of backend b.
func (p *Pool) upsertLocked(b *backend, info *cpv1.DeviceInfo) *device {
	key := b.name + "/" + info.GetId()
	d := p.devs[key]
	if d == nil {
		d = &device{key: key, id: info.GetId(), b: b, freeSince: p.now()}
		p.devs[key] = d
		p.insertLocked(d)
	}
	labels := mergeLabels(b, info)
	if !maps.Equal(labels, d.labels) {
		d.labels = labels
		d.taints, _ = parseTaints(splitList(labels["taints"]))
	}
	if !d.listed && d.lease != nil {
		p.log.Info("leased device is listed again; its lease holds", "device", key, "lease", d.lease.ID)
	}
	d.listed = true
	d.bstate = info.GetState()
	if d.provisioned != info.GetProvisioned() {
		d.provisioned = info.GetProvisioned()
		p.removeOrderLocked(d)
		p.insertLocked(d)
	}
	return d
}

// mergeLabels: the backend's labels, then the config's, then the pool's
// own (backend, resolution when missing).
func mergeLabels(b *backend, info *cpv1.DeviceInfo) map[string]string {
	out := make(map[string]string, len(info.GetLabels())+len(b.cfg.Labels)+2)
	maps.Copy(out, info.GetLabels())
	if s := info.GetScreen(); out["resolution"] == "" && s.GetWidth() > 0 {
		out["resolution"] = fmt.Sprintf("%dx%d", s.GetWidth(), s.GetHeight())
	}
	maps.Copy(out, b.cfg.Labels)
	out["backend"] = b.name
	return out
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// less orders devices: configured before provisioned (so elastic phones
// idle first and are reclaimed), then by key.
func less(a, b *device) int {
	if a.provisioned != b.provisioned {
		if !a.provisioned {
			return -1
		}
		return 1
	}
	return strings.Compare(a.key, b.key)
}

func (p *Pool) insertLocked(d *device) {
	i, _ := slices.BinarySearchFunc(p.order, d, less)
	p.order = slices.Insert(p.order, i, d)
}

func (p *Pool) removeOrderLocked(d *device) {
	if i := slices.Index(p.order, d); i >= 0 {
		p.order = slices.Delete(p.order, i, i+1)
	}
}

// removeLocked forgets d. Its lease, if any, must be gone already.
func (p *Pool) removeLocked(d *device) {
	delete(p.devs, d.key)
	p.removeOrderLocked(d)
}
