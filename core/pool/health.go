package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// heartbeatWorkers bounds the Health calls in flight per round.
const heartbeatWorkers = 32

func (p *Pool) heartbeatLoop() {
	defer p.wg.Done()
	for {
		t := time.NewTimer(p.config().Heartbeat.Interval)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		p.Heartbeat(p.ctx)
	}
}

type target struct{ key, backend, id string }

// Heartbeat checks every device's health once: one backend Health call
// per device, at most heartbeatWorkers at a time. The heartbeat loop calls
// it every devices.heartbeat.interval.
func (p *Pool) Heartbeat(ctx context.Context) {
	p.mu.Lock()
	targets := make([]target, 0, len(p.order))
	for _, d := range p.order {
		if !d.removing {
			targets = append(targets, target{d.key, d.b.name, d.id})
		}
	}
	p.mu.Unlock()
	timeout := p.callTimeout()
	sem := make(chan struct{}, heartbeatWorkers)
	var wg sync.WaitGroup
	for _, t := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var resp *cpv1.HealthResponse
			err := p.backends.WithDevice(t.backend, func(d pluginhost.Device) (err error) {
				resp, err = d.Health(cctx, &cpv1.HealthRequest{DeviceId: t.id})
				return err
			})
			if ctx.Err() != nil {
				return // the pool is closing: not the device's fault
			}
			p.applyHealth(t.key, resp, err)
		})
	}
	wg.Wait()
}

// applyHealth records one heartbeat of the device key.
func (p *Pool) applyHealth(key string, resp *cpv1.HealthResponse, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.devs[key]
	if d == nil {
		return
	}
	if err == nil && resp.GetOk() {
		d.misses, d.lastOK, d.healthMsg = 0, p.now(), resp.GetMessage()
		if d.health == hUnhealthy {
			p.log.Info("device healthy again; leasable", "device", key)
		}
		if d.health != hHealthy {
			d.health = hHealthy
			p.dispatchLocked()
		}
		return
	}
	switch {
	case err != nil:
		d.healthMsg = err.Error()
	case resp.GetMessage() != "":
		d.healthMsg = "not ok: " + resp.GetMessage()
	default:
		d.healthMsg = "not ok"
	}
	d.misses++
	n := p.cfg.Heartbeat.Misses
	if int(d.misses) < n || d.health == hUnhealthy {
		return
	}
	d.health = hUnhealthy
	p.log.Warn("device unhealthy; drained", "device", key, "misses", d.misses, "last", d.healthMsg)
	if l := d.lease; l != nil {
		gone := ""
		if !d.listed {
			gone = " and its backend no longer lists it"
		}
		p.loseLocked(l, fmt.Errorf("%w: device %s is unhealthy: %d health checks failed in a row (every %s)%s; the last: %s",
			ErrLost, key, d.misses, p.cfg.Heartbeat.Interval, gone, d.healthMsg))
	}
	if !d.listed && d.lease == nil {
		p.removeLocked(d)
	}
}

// IsLost reports whether err is a lease loss (device failure, expiry,
// backend gone, pool closed), so a scheduler knows to retry the task on
// another device.
func IsLost(err error) bool { return errors.Is(err, ErrLost) || errors.Is(err, ErrExpired) }
