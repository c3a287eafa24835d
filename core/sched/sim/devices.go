package sim

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"

	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
)

// Devices is a virtual in-memory device set: n phones with labels,
// leased first free first. It implements sched.Devices and is safe for
// concurrent use. It has no taints and no tenant quotas of its own (a
// device labelled tenant=<t> serves only tenant t, as in core/pool).
type Devices struct {
	mu      sync.Mutex
	labels  []map[string]string
	busy    []bool
	free    int
	changes chan struct{}
	// OnRelease, when set, is called (without the lock) with the device
	// index after each release.
	OnRelease func(dev int)
}

// NewDevices returns n devices; labels(i), when not nil, gives device i
// its labels.
func NewDevices(n int, labels func(i int) map[string]string) *Devices {
	d := &Devices{labels: make([]map[string]string, n), busy: make([]bool, n), free: n,
		changes: make(chan struct{}, 1)}
	for i := range n {
		if labels != nil {
			d.labels[i] = maps.Clone(labels(i))
		}
	}
	return d
}

// DevLease is a lease on one virtual device.
type DevLease struct {
	d        *Devices
	Index    int
	released bool
}

// Device is the leased device's id, "sim/<index>".
func (l *DevLease) Device() string { return fmt.Sprintf("sim/%d", l.Index) }

// Release implements sched.Lease; a second release does nothing.
func (l *DevLease) Release() {
	d := l.d
	d.mu.Lock()
	if l.released {
		d.mu.Unlock()
		return
	}
	l.released = true
	d.busy[l.Index] = false
	d.free++
	d.mu.Unlock()
	select {
	case d.changes <- struct{}{}:
	default:
	}
	if d.OnRelease != nil {
		d.OnRelease(l.Index)
	}
}

// TryLease implements sched.Devices.
func (d *Devices) TryLease(_ context.Context, req pool.Request) (sched.Lease, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.free > 0 {
		for i, labels := range d.labels {
			if !d.busy[i] && matches(labels, req, i) {
				d.busy[i] = true
				d.free--
				return &DevLease{d: d, Index: i}, nil
			}
		}
	}
	matched := 0
	for i, labels := range d.labels {
		if matches(labels, req, i) {
			matched++
		}
	}
	if matched == 0 {
		return nil, fmt.Errorf("lease for %s: %w among %d virtual devices", req.Owner, pool.ErrNoDevice, len(d.labels))
	}
	return nil, fmt.Errorf("lease for %s: %w: %d match, all leased", req.Owner, pool.ErrBusy, matched)
}

func matches(labels map[string]string, req pool.Request, i int) bool {
	if req.DeviceID != "" && req.DeviceID != "sim/"+strconv.Itoa(i) {
		return false
	}
	for k, v := range req.Labels {
		if labels[k] != v {
			return false
		}
	}
	if len(labels) == 0 {
		return true
	}
	t := labels["tenant"]
	return t == "" || t == req.Tenant
}

// Changes implements sched.Devices.
func (d *Devices) Changes() <-chan struct{} { return d.changes }

// Capacity implements sched.Devices.
func (d *Devices) Capacity() int { return len(d.labels) }

// Free is the number of devices not leased.
func (d *Devices) Free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.free
}

var _ sched.Devices = (*Devices)(nil)
