package pool

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// DefaultTenant is the tenant of a request that names none.
const DefaultTenant = "default"

// Request asks for one device.
type Request struct {
	// Tenant is charged for the device (default DefaultTenant).
	Tenant string
	// Owner is who holds the lease: a task id.
	Owner string
	// Labels select devices: each pair must equal the device's label
	// ("backend": "device-sim", "android": "14", "region": …).
	Labels map[string]string
	// Tolerations allow devices with these taints: "key", "key=value",
	// either optionally followed by ":NoSchedule". A key alone tolerates
	// any value.
	Tolerations []string
	// DeviceID, when set, asks for one device: "<backend>/<id>", or an id
	// that any backend may serve.
	DeviceID string
	// TTL is the lease's time-to-live (default devices.lease_ttl).
	TTL time.Duration
	// NoWait fails at once, with the reason, when no device can be leased
	// now, instead of waiting until ctx ends.
	NoWait bool
}

// taint is a parsed taint or toleration; an empty value in a toleration
// matches every value.
type taint struct{ key, value string }

func (t taint) String() string {
	if t.value == "" {
		return t.key + ":NoSchedule"
	}
	return t.key + "=" + t.value + ":NoSchedule"
}

func parseTaints(list []string) ([]taint, error) {
	var out []taint
	for _, s := range list {
		k, v, err := config.ParseTaint(s)
		if err != nil {
			return nil, err
		}
		out = append(out, taint{k, v})
	}
	return out, nil
}

// tolerates reports whether tols allow t.
func tolerates(tols []taint, t taint) bool {
	for _, tol := range tols {
		if tol.key == t.key && (tol.value == "" || tol.value == t.value) {
			return true
		}
	}
	return false
}

// waiter is one Lease call in the queue. Guarded by Pool.mu.
type waiter struct {
	req    Request
	tols   []taint
	since  time.Time
	ch     chan *Lease // gets the lease; closed when the pool closes
	scaled bool        // elastic sizing provisioned a phone for it
}

// Lease is a device lent to one owner. It is an agent.Device: Observe and
// Act go to the device's backend plugin. Its exported fields do not
// change.
type Lease struct {
	ID       string
	Device   string // "<backend>/<id>"
	Backend  string
	DeviceID string // the id within the backend
	Owner    string
	Tenant   string
	Acquired time.Time

	p   *Pool
	ttl time.Duration
	// Guarded by Pool.mu.
	expires  time.Time
	dev      *device
	err      error
	released bool
	lost     chan error
}

// Lost delivers the reason the lease was lost (device unhealthy, expired,
// backend disabled, pool closed) and is then closed. It is never
// signalled for a lease that is released.
func (l *Lease) Lost() <-chan error { return l.lost }

// Err returns why the lease was lost, or nil.
func (l *Lease) Err() error {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.err
}

// Expires returns when the lease ends unless renewed.
func (l *Lease) Expires() time.Time {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.expires
}

// Renew extends the lease to ttl from now (0: the lease's own TTL).
func (l *Lease) Renew(ttl time.Duration) error {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	switch {
	case l.err != nil:
		return l.err
	case l.released:
		return fmt.Errorf("renew %s: %w", l.ID, ErrReleased)
	}
	if ttl <= 0 {
		ttl = l.ttl
	}
	l.expires = l.p.now().Add(ttl)
	return nil
}

// Release gives the device back. Releasing a lease that was lost or
// released already does nothing.
func (l *Lease) Release() { l.p.Release(l) }

// Observe implements agent.Device.
func (l *Lease) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	if err := l.usable(); err != nil {
		return nil, err
	}
	req.DeviceId = l.DeviceID
	var obs *cpv1.Observation
	err := l.p.backends.WithDevice(l.Backend, func(b pluginhost.Device) (err error) {
		obs, err = b.Observe(ctx, req)
		return err
	})
	return obs, err
}

// Act implements agent.Device.
func (l *Lease) Act(ctx context.Context, a *cpv1.Action) (*cpv1.ActResponse, error) {
	if err := l.usable(); err != nil {
		return nil, err
	}
	var resp *cpv1.ActResponse
	err := l.p.backends.WithDevice(l.Backend, func(b pluginhost.Device) (err error) {
		resp, err = b.Act(ctx, &cpv1.ActRequest{DeviceId: l.DeviceID, Action: a})
		return err
	})
	return resp, err
}

func (l *Lease) usable() error {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	switch {
	case l.err != nil:
		return l.err
	case l.released:
		return fmt.Errorf("lease %s: %w", l.ID, ErrReleased)
	}
	return nil
}

// Lease lends a device matching req. When none is free it waits, first
// come first served, until one frees, appears or is provisioned, or until
// ctx ends; the error then says why no device could be leased (no match,
// all busy, or the tenant's quota) and wraps ErrNoDevice, ErrBusy or
// ErrQuota, and ctx's error.
func (p *Pool) Lease(ctx context.Context, req Request) (*Lease, error) {
	if req.Tenant == "" {
		req.Tenant = DefaultTenant
	}
	tols, err := parseTaints(req.Tolerations)
	if err != nil {
		return nil, fmt.Errorf("lease: tolerations: %w", err)
	}
	w := &waiter{req: req, tols: tols}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("lease: %w", ErrClosed)
	}
	w.since = p.now()
	if len(p.waiters) == 0 { // nobody queued first: no need to queue
		if d := p.pickLocked(w); d != nil {
			l := p.grantLocked(w, d)
			p.mu.Unlock()
			return l, nil
		}
	}
	w.ch = make(chan *Lease, 1)
	p.waiters = append(p.waiters, w)
	// A new waiter frees no device: serve the queue without signalling
	// Changes, or a dispatcher that leases with NoWait would wake itself
	// forever while a task waits.
	p.serveWaitersLocked()
	select {
	case l := <-w.ch:
		p.mu.Unlock()
		return l, nil
	default:
	}
	if req.NoWait {
		p.removeWaiterLocked(w)
		why := p.whyLocked(w)
		p.mu.Unlock()
		return nil, fmt.Errorf("lease for %s: %w", describe(req), why)
	}
	unmatched := p.countMatchingLocked(w) == 0
	p.mu.Unlock()
	if unmatched {
		p.SyncSoon() // perhaps a backend has a device the pool has not seen
	}
	select {
	case l, ok := <-w.ch:
		if !ok {
			return nil, fmt.Errorf("lease for %s: %w", describe(req), ErrClosed)
		}
		return l, nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	p.removeWaiterLocked(w)
	select {
	case l, ok := <-w.ch: // granted while ctx ended: give it back
		if ok {
			p.releaseLocked(l)
		}
	default:
	}
	why := p.whyLocked(w)
	waited := p.now().Sub(w.since).Round(time.Millisecond)
	p.mu.Unlock()
	return nil, fmt.Errorf("lease for %s: waited %s: %w (%w)", describe(req), waited, why, context.Cause(ctx))
}

// describe renders a request for errors.
func describe(r Request) string {
	var parts []string
	parts = append(parts, "tenant "+r.Tenant)
	if r.DeviceID != "" {
		parts = append(parts, "device "+r.DeviceID)
	}
	if len(r.Labels) > 0 {
		keys := slices.Sorted(maps.Keys(r.Labels))
		sel := make([]string, len(keys))
		for i, k := range keys {
			sel[i] = k + "=" + r.Labels[k]
		}
		parts = append(parts, "labels {"+strings.Join(sel, ", ")+"}")
	}
	return strings.Join(parts, ", ")
}

// Release gives l's device back (see Lease.Release).
func (p *Pool) Release(l *Lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(l)
	p.dispatchLocked()
}

func (p *Pool) releaseLocked(l *Lease) {
	if l.released || l.err != nil {
		return
	}
	l.released = true
	p.detachLocked(l)
}

// detachLocked frees l's device and quota and forgets the lease record.
func (p *Pool) detachLocked(l *Lease) {
	delete(p.leases, l.ID)
	if n := p.held[l.Tenant] - 1; n > 0 {
		p.held[l.Tenant] = n
	} else {
		delete(p.held, l.Tenant)
	}
	if d := l.dev; d != nil && d.lease == l {
		d.lease = nil
		d.freeSince = p.now()
		if !d.listed && d.health == hUnhealthy {
			p.removeLocked(d)
		}
	}
	l.dev = nil
}

// loseLocked ends l with err and tells its holder.
func (p *Pool) loseLocked(l *Lease, err error) {
	if l.released || l.err != nil {
		return
	}
	l.err = err
	p.detachLocked(l)
	if p.closed {
		// Close logs one line for all of them.
		l.lost <- err
		close(l.lost)
		return
	}
	p.log.Warn("lease lost", "lease", l.ID, "device", l.Device, "owner", l.Owner, "tenant", l.Tenant, "reason", err)
	l.lost <- err
	close(l.lost)
}

func (p *Pool) removeWaiterLocked(w *waiter) {
	if i := slices.Index(p.waiters, w); i >= 0 {
		p.waiters = slices.Delete(p.waiters, i, i+1)
	}
}

// dispatchLocked hands free devices to waiters, first come first served;
// a waiter that cannot be served now does not block those behind it.
func (p *Pool) dispatchLocked() {
	select { // every path that may free a device comes through here
	case p.changed <- struct{}{}:
	default:
	}
	p.serveWaitersLocked()
}

// serveWaitersLocked is dispatchLocked without the Changes signal.
func (p *Pool) serveWaitersLocked() {
	if len(p.waiters) == 0 {
		return
	}
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if d := p.pickLocked(w); d != nil {
			w.ch <- p.grantLocked(w, d)
			continue
		}
		kept = append(kept, w)
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
}

// grantLocked leases d to w.
func (p *Pool) grantLocked(w *waiter, d *device) *Lease {
	p.seq++
	now := p.now()
	ttl := w.req.TTL
	if ttl <= 0 {
		ttl = p.cfg.LeaseTTL
	}
	l := &Lease{
		ID: "lease-" + strconv.FormatUint(p.seq, 10), Device: d.key, Backend: d.b.name, DeviceID: d.id,
		Owner: w.req.Owner, Tenant: w.req.Tenant, Acquired: now,
		p: p, ttl: ttl, expires: now.Add(ttl), dev: d, lost: make(chan error, 1),
	}
	d.lease = l
	p.leases[l.ID] = l
	p.held[l.Tenant]++
	return l
}

// quotaLocked returns why w's tenant may not take one more device now, or
// "" when it may.
func (p *Pool) quotaLocked(w *waiter) string {
	t := w.req.Tenant
	q := p.cfg.Tenants[t]
	held := p.held[t]
	if q.Limit > 0 && held >= q.Limit {
		return fmt.Sprintf("tenant %s holds %d of its limit of %d devices", t, held, q.Limit)
	}
	if held < q.Request {
		return "" // within its guarantee
	}
	reserved := 0
	var owed []string
	for name, oq := range p.cfg.Tenants {
		if name != t && oq.Request > p.held[name] {
			reserved += oq.Request - p.held[name]
			owed = append(owed, fmt.Sprintf("%s: %d", name, oq.Request-p.held[name]))
		}
	}
	if reserved == 0 {
		return ""
	}
	free := 0
	for _, d := range p.order {
		if d.leasable() {
			free++
		}
	}
	if free-1 < reserved {
		slices.Sort(owed)
		return fmt.Sprintf("the %d free devices are kept for other tenants' requests (%s)", free, strings.Join(owed, ", "))
	}
	return ""
}

// pickLocked returns the device w gets now, or nil.
func (p *Pool) pickLocked(w *waiter) *device {
	if p.quotaLocked(w) != "" {
		return nil
	}
	if id := w.req.DeviceID; id != "" {
		if d := p.devs[id]; d != nil {
			if d.leasable() && p.matchLocked(w, d) {
				return d
			}
			return nil
		}
	}
	for _, d := range p.order {
		if d.leasable() && p.matchLocked(w, d) {
			return d
		}
	}
	return nil
}

// matchLocked reports whether d suits w, free or not.
func (p *Pool) matchLocked(w *waiter, d *device) bool {
	if id := w.req.DeviceID; id != "" && d.key != id && d.id != id {
		return false
	}
	for k, v := range w.req.Labels {
		if d.labels[k] != v {
			return false
		}
	}
	if t := d.labels["tenant"]; t != "" && t != w.req.Tenant {
		return false
	}
	for _, t := range d.b.taints {
		if !tolerates(w.tols, t) {
			return false
		}
	}
	for _, t := range d.taints {
		if !tolerates(w.tols, t) {
			return false
		}
	}
	return true
}

func (p *Pool) countMatchingLocked(w *waiter) int {
	n := 0
	for _, d := range p.order {
		if p.matchLocked(w, d) {
			n++
		}
	}
	return n
}

// whyLocked explains why w has no device now.
func (p *Pool) whyLocked(w *waiter) error {
	if q := p.quotaLocked(w); q != "" {
		return fmt.Errorf("%w: %s", ErrQuota, q)
	}
	counts := map[string]int{}
	total := 0
	for _, d := range p.order {
		if p.matchLocked(w, d) {
			total++
			counts[d.state()]++
		}
	}
	if total == 0 {
		return fmt.Errorf("%w among the pool's %d devices", ErrNoDevice, len(p.devs))
	}
	states := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return fmt.Errorf("%w: %d match (%s)", ErrBusy, total, strings.Join(parts, ", "))
}

// sweep ends expired leases and runs elastic sizing. The tick loop calls
// it; tests with a fake clock call it directly.
func (p *Pool) sweep() {
	p.mu.Lock()
	now := p.now()
	for _, l := range p.leases {
		if !now.Before(l.expires) {
			p.loseLocked(l, fmt.Errorf("%w: lease %s on %s (owner %s) was not renewed within its ttl of %s",
				ErrExpired, l.ID, l.Device, l.Owner, l.ttl))
		}
	}
	p.dispatchLocked()
	p.mu.Unlock()
	p.scale()
}

var _ agent.Device = (*Lease)(nil)
