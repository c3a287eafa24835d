package pool

import (
	"maps"
	"slices"
	"time"
)

// DeviceStatus is one row of `cloudphone devices` and GET /api/v1/devices.
type DeviceStatus struct {
	// ID is "<backend>/<id>".
	ID      string            `json:"id"`
	Backend string            `json:"backend"`
	Labels  map[string]string `json:"labels"`
	// Taints are the backend's and the device's own.
	Taints []string `json:"taints,omitempty"`
	// State is free, leased, drained, booting, offline, missing or
	// releasing.
	State string `json:"state"`
	// Lease is null when the device is not leased.
	Lease       *LeaseStatus `json:"lease"`
	Health      HealthStatus `json:"health"`
	Provisioned bool         `json:"provisioned"`
}

// LeaseStatus describes a lease.
type LeaseStatus struct {
	ID       string    `json:"id"`
	Owner    string    `json:"owner"`
	Tenant   string    `json:"tenant"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
}

// HealthStatus is a device's heartbeat record.
type HealthStatus struct {
	// Status is unknown (no check yet), healthy or unhealthy.
	Status string `json:"status"`
	// Misses is the number of failed checks in a row.
	Misses  int        `json:"misses"`
	Message string     `json:"message,omitempty"`
	LastOK  *time.Time `json:"last_ok,omitempty"`
}

// BackendStatus is one enabled backend: GET /api/v1/backends. A backend
// whose engine (Docker, QEMU, adb server) is unreachable has its plugin
// active and says so in Status, with OK false.
type BackendStatus struct {
	Name string `json:"name"`
	// Plugin is the plugin's state in the host: active, crashed, or
	// "not loaded".
	Plugin      string `json:"plugin"`
	PluginError string `json:"plugin_error,omitempty"`
	// OK is whether the last List succeeded with no backend status; Status
	// is "ok", the backend's own status line (its engine is unreachable:
	// "docker: connection refused"), or the List error.
	OK        bool       `json:"ok"`
	Status    string     `json:"status"`
	LastSync  *time.Time `json:"last_sync,omitempty"`
	Devices   int        `json:"devices"`
	Free      int        `json:"free"`
	Leased    int        `json:"leased"`
	Unhealthy int        `json:"unhealthy"`
	// Min and Max are the elastic sizing bounds (max 0: off);
	// Provisioning counts phones being provisioned.
	Min          int `json:"min"`
	Max          int `json:"max"`
	Provisioning int `json:"provisioning"`
}

func healthName(h uint8) string {
	switch h {
	case hHealthy:
		return HealthHealthy
	case hUnhealthy:
		return HealthUnhealthy
	}
	return HealthUnknown
}

// Devices lists every registered device, by id.
func (p *Pool) Devices() []DeviceStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]DeviceStatus, 0, len(p.order))
	for _, d := range p.order {
		s := DeviceStatus{
			ID: d.key, Backend: d.b.name, Labels: maps.Clone(d.labels), State: d.state(),
			Provisioned: d.provisioned,
			Health:      HealthStatus{Status: healthName(d.health), Misses: int(d.misses), Message: d.healthMsg},
		}
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for _, t := range append(slices.Clone(d.b.taints), d.taints...) {
			s.Taints = append(s.Taints, t.String())
		}
		if !d.lastOK.IsZero() {
			at := d.lastOK
			s.Health.LastOK = &at
		}
		if l := d.lease; l != nil {
			s.Lease = &LeaseStatus{ID: l.ID, Owner: l.Owner, Tenant: l.Tenant, Acquired: l.Acquired, Expires: l.expires}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b DeviceStatus) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Leases lists the leases in force.
func (p *Pool) Leases() []LeaseStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]LeaseStatus, 0, len(p.leases))
	for _, l := range p.leases {
		out = append(out, LeaseStatus{ID: l.ID, Owner: l.Owner, Tenant: l.Tenant, Acquired: l.Acquired, Expires: l.expires})
	}
	slices.SortFunc(out, func(a, b LeaseStatus) int { return a.Acquired.Compare(b.Acquired) })
	return out
}

// Held returns how many devices each tenant holds.
func (p *Pool) Held() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.held)
}

// Backends lists the enabled backends, by name.
func (p *Pool) Backends() []BackendStatus {
	p.mu.Lock()
	out := make([]BackendStatus, 0, len(p.bk))
	for _, b := range p.bk {
		s := BackendStatus{Name: b.name, OK: b.ok, Status: b.status, Min: b.cfg.Min, Max: b.cfg.Max, Provisioning: b.pending}
		if !b.lastSync.IsZero() {
			at := b.lastSync
			s.LastSync = &at
		}
		for _, d := range p.order {
			if d.b != b {
				continue
			}
			s.Devices++
			switch {
			case d.lease != nil:
				s.Leased++
			case d.leasable():
				s.Free++
			}
			if d.health == hUnhealthy {
				s.Unhealthy++
			}
		}
		out = append(out, s)
	}
	p.mu.Unlock()
	for i := range out {
		out[i].Plugin = "unknown"
		if p.opts.PluginState != nil {
			out[i].Plugin, out[i].PluginError = p.opts.PluginState(out[i].Name)
		}
	}
	slices.SortFunc(out, func(a, b BackendStatus) int {
		if a.Name < b.Name {
			return -1
		}
		return 1
	})
	return out
}
