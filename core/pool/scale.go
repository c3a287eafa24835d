package pool

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// scaleBackoff is how long a backend is left alone after a Provision or
// Release fails.
const scaleBackoff = 5 * time.Second

// op is one Provision or Release elastic sizing decided on.
type op struct {
	backend string
	labels  map[string]string // provision
	dev     *device           // release
	w       *waiter           // the waiter a provision is for
}

// scale runs elastic sizing once: for each backend with a max, it decides
// under the lock, then provisions and releases outside it.
func (p *Pool) scale() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	var ops []op
	now := p.now()
	for _, b := range p.bk {
		if b.cfg.Max > 0 && !now.Before(b.backoff) {
			ops = append(ops, p.planLocked(b, now)...)
		}
	}
	p.mu.Unlock()
	for _, o := range ops {
		p.wg.Add(1)
		if o.dev != nil {
			go p.release(o)
		} else {
			go p.provision(o)
		}
	}
}

// planLocked decides what b needs now.
func (p *Pool) planLocked(b *backend, now time.Time) []op {
	eff := b.cfg.Effective(p.cfg.Scaling)
	count, leased, serving := 0, 0, 0
	var idle []*device
	for _, d := range p.order {
		if d.b != b || d.removing {
			continue
		}
		count++
		if d.lease != nil {
			leased++
		}
		if d.lease != nil || d.leasable() {
			serving++
		}
		if d.lease == nil && d.provisioned && !now.Before(d.freeSince.Add(eff.ScaleDownIdle)) {
			idle = append(idle, d)
		}
	}
	room := b.cfg.Max - count - b.pending
	var ops []op
	add := func(labels map[string]string, w *waiter) {
		ops = append(ops, op{backend: b.name, labels: labels, w: w})
		b.pending++
		room--
	}
	for room > 0 && count+b.pending < b.cfg.Min {
		add(nil, nil)
	}
	// Requests that waited scale_up_wait for a device this backend could
	// provide get one each.
	waiting := false
	for _, w := range p.waiters {
		if room <= 0 {
			break
		}
		if w.scaled || now.Sub(w.since) < eff.ScaleUpWait || !p.couldServe(b, w) || p.quotaLocked(w) != "" {
			continue
		}
		waiting = true
		w.scaled = true
		labels := maps.Clone(w.req.Labels)
		delete(labels, "backend")
		add(labels, w)
	}
	// A backend busier than scale_up_busy for scale_up_after grows by one
	// phone each period.
	busy := serving > 0 && float64(leased)/float64(serving) > eff.ScaleUpBusy
	switch {
	case !busy:
		b.busySince = time.Time{}
	case b.busySince.IsZero():
		b.busySince = now
	case now.Sub(b.busySince) >= eff.ScaleUpAfter && room > 0 && b.pending == 0:
		add(nil, nil)
		b.busySince = now
	}
	if busy || waiting || len(p.waiters) > 0 {
		return ops
	}
	for _, d := range idle {
		if count <= b.cfg.Min {
			break
		}
		d.removing = true
		count--
		ops = append(ops, op{backend: b.name, dev: d})
	}
	return ops
}

// couldServe reports whether a phone provisioned on b with w's labels
// could serve w: w does not ask for another backend or a given device.
func (p *Pool) couldServe(b *backend, w *waiter) bool {
	if w.req.DeviceID != "" {
		return false
	}
	if name, ok := w.req.Labels["backend"]; ok && name != b.name {
		return false
	}
	for _, t := range b.taints {
		if !tolerates(w.tols, t) {
			return false
		}
	}
	for k, v := range b.cfg.Labels {
		if want, ok := w.req.Labels[k]; ok && want != v {
			return false
		}
	}
	return true
}

func (p *Pool) provision(o op) {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.ProvisionTimeout)
	defer cancel()
	start := time.Now()
	var info *cpv1.DeviceInfo
	err := p.backends.WithDevice(o.backend, func(d pluginhost.Device) (err error) {
		info, err = d.Provision(ctx, &cpv1.ProvisionRequest{Labels: o.labels})
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bk[o.backend]
	if b == nil {
		return // disabled meanwhile; a sync of a re-enabled backend finds the phone
	}
	b.pending--
	if err != nil || info.GetId() == "" {
		if err == nil {
			err = fmt.Errorf("backend returned a device with no id")
		}
		if o.w != nil {
			o.w.scaled = false
		}
		b.backoff = p.now().Add(scaleBackoff)
		b.status = "provision: " + err.Error()
		p.log.Warn("elastic sizing: provision failed", "backend", o.backend, "error", err)
		return
	}
	info.Provisioned = true
	d := p.upsertLocked(b, info)
	d.freeSince = p.now()
	p.log.Info("elastic sizing: provisioned", "device", d.key, "took", time.Since(start).Round(time.Millisecond))
	p.dispatchLocked()
}

func (p *Pool) release(o op) {
	defer p.wg.Done()
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.ProvisionTimeout)
	defer cancel()
	err := p.backends.WithDevice(o.backend, func(d pluginhost.Device) error {
		_, err := d.Release(ctx, &cpv1.ReleaseRequest{DeviceId: o.dev.id})
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		o.dev.removing = false
		if b := p.bk[o.backend]; b != nil {
			b.backoff = p.now().Add(scaleBackoff)
			b.status = "release: " + err.Error()
		}
		p.log.Warn("elastic sizing: release failed", "device", o.dev.key, "error", err)
		p.dispatchLocked()
		return
	}
	if p.devs[o.dev.key] == o.dev {
		p.removeLocked(o.dev)
	}
	p.log.Info("elastic sizing: released idle phone", "device", o.dev.key)
}
