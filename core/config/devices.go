package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DevicesConfig is the device pool section (core/pool): which device
// backend plugins the pool draws phones from, and the pool's own policies.
// A backend's own settings stay in plugins.config.<name>.
type DevicesConfig struct {
	// Backends maps a device backend plugin name to its pool settings.
	// Only backends listed here with enabled: true are pooled.
	Backends map[string]BackendConfig `koanf:"backends"`
	// Tenants maps a tenant name to its device quota. Tenants not listed
	// have no guaranteed devices and no limit.
	Tenants map[string]TenantQuota `koanf:"tenants"`
	// Heartbeat is how devices are health-checked.
	Heartbeat HeartbeatConfig `koanf:"heartbeat"`
	// Scaling holds the default thresholds of elastic sizing; a backend
	// may override each one.
	Scaling ScalingConfig `koanf:"scaling"`
	// SyncInterval is how often every backend's List is read.
	SyncInterval time.Duration `koanf:"sync_interval"`
	// LeaseTTL is the time-to-live of a lease whose request names none.
	LeaseTTL time.Duration `koanf:"lease_ttl"`
}

// BackendConfig is devices.backends.<plugin-name>: pool settings only.
type BackendConfig struct {
	// Enabled puts the backend's devices in the pool.
	Enabled bool `koanf:"enabled"`
	// Min and Max bound the backend's device count for elastic sizing.
	// Max 0 turns elastic sizing off: the pool never provisions or
	// releases phones of this backend.
	Min int `koanf:"min"`
	Max int `koanf:"max"`
	// Labels are added to every device of the backend (over the
	// backend's own labels), e.g. region: cn-north.
	Labels map[string]string `koanf:"labels"`
	// Taints are put on every device of the backend: "key=value:NoSchedule"
	// or "key:NoSchedule" (the effect may be left out). Only requests that
	// tolerate a device's every taint lease it.
	Taints []string `koanf:"taints"`
	// ScaleUpWait, ScaleUpBusy, ScaleUpAfter and ScaleDownIdle override
	// devices.scaling for this backend; zero keeps the default.
	ScaleUpWait   time.Duration `koanf:"scale_up_wait"`
	ScaleUpBusy   float64       `koanf:"scale_up_busy"`
	ScaleUpAfter  time.Duration `koanf:"scale_up_after"`
	ScaleDownIdle time.Duration `koanf:"scale_down_idle"`
}

// TenantQuota is devices.tenants.<name>: a device-count quota.
type TenantQuota struct {
	// Request is the number of devices kept for the tenant: other tenants
	// may not take the last free devices while it holds fewer.
	Request int `koanf:"request"`
	// Limit is the most devices the tenant may hold at once; 0 is no
	// limit.
	Limit int `koanf:"limit"`
}

// HeartbeatConfig is devices.heartbeat.
type HeartbeatConfig struct {
	// Interval between two health checks of one device.
	Interval time.Duration `koanf:"interval"`
	// Misses is the number of failed checks in a row that makes a device
	// unhealthy: it is drained and its lease, if any, is lost.
	Misses int `koanf:"misses"`
}

// ScalingConfig is devices.scaling: when the pool grows or shrinks a
// backend that has a max.
type ScalingConfig struct {
	// ScaleUpWait: provision when a lease request has waited this long
	// for a free device.
	ScaleUpWait time.Duration `koanf:"scale_up_wait"`
	// ScaleUpBusy and ScaleUpAfter: provision when more than this share
	// of a backend's devices are leased for this long.
	ScaleUpBusy  float64       `koanf:"scale_up_busy"`
	ScaleUpAfter time.Duration `koanf:"scale_up_after"`
	// ScaleDownIdle: release provisioned phones free for this long.
	ScaleDownIdle time.Duration `koanf:"scale_down_idle"`
}

// Effective returns the backend's thresholds with defaults from s.
func (b BackendConfig) Effective(s ScalingConfig) ScalingConfig {
	out := s
	if b.ScaleUpWait > 0 {
		out.ScaleUpWait = b.ScaleUpWait
	}
	if b.ScaleUpBusy > 0 {
		out.ScaleUpBusy = b.ScaleUpBusy
	}
	if b.ScaleUpAfter > 0 {
		out.ScaleUpAfter = b.ScaleUpAfter
	}
	if b.ScaleDownIdle > 0 {
		out.ScaleDownIdle = b.ScaleDownIdle
	}
	return out
}

// defaultDevices is the devices section of Default: device-sim only.
func defaultDevices() DevicesConfig {
	return DevicesConfig{
		Backends:  map[string]BackendConfig{"device-sim": {Enabled: true}},
		Heartbeat: HeartbeatConfig{Interval: 5 * time.Second, Misses: 3},
		Scaling: ScalingConfig{
			ScaleUpWait:   time.Minute,
			ScaleUpBusy:   0.7,
			ScaleUpAfter:  time.Minute,
			ScaleDownIdle: 5 * time.Minute,
		},
		SyncInterval: 10 * time.Second,
		LeaseTTL:     10 * time.Minute,
	}
}

// labelKey matches label keys: letters, digits, ., -, _ and /.
var labelKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$`)

// ParseTaint parses "key[=value][:effect]"; the only effect is
// NoSchedule, the default.
func ParseTaint(s string) (key, value string, err error) {
	s = strings.TrimSpace(s)
	kv, effect, hasEffect := strings.Cut(s, ":")
	if hasEffect && effect != "NoSchedule" {
		return "", "", fmt.Errorf("taint %q: the only effect is NoSchedule", s)
	}
	key, value, _ = strings.Cut(kv, "=")
	if !labelKey.MatchString(key) {
		return "", "", fmt.Errorf("taint %q: key must be letters, digits, '.', '-', '_' and '/'", s)
	}
	return key, value, nil
}

func (s *DevicesConfig) validate(v *checker) {
	for _, name := range sortedKeys(s.Backends) {
		b := s.Backends[name]
		key := "devices.backends." + name
		if !pluginName.MatchString(name) {
			v.add(key, "plugin name must be letters, digits, - and _")
		}
		if b.Min < 0 || b.Max < 0 {
			v.add(key, "min and max must be 0 or more, got min %d, max %d", b.Min, b.Max)
		}
		if b.Max > 0 && b.Min > b.Max {
			v.add(key+".min", "must not exceed max (%d), got %d", b.Max, b.Min)
		}
		for _, k := range sortedKeys(b.Labels) {
			if !labelKey.MatchString(k) {
				v.add(key+".labels."+k, "label key must be letters, digits, '.', '-', '_' and '/'")
			}
		}
		for _, t := range b.Taints {
			if _, _, err := ParseTaint(t); err != nil {
				v.add(key+".taints", "%v", err)
			}
		}
		if b.ScaleUpBusy < 0 || b.ScaleUpBusy > 1 {
			v.add(key+".scale_up_busy", "must be between 0 and 1, got %g", b.ScaleUpBusy)
		}
		for _, d := range []struct {
			k string
			d time.Duration
		}{{"scale_up_wait", b.ScaleUpWait}, {"scale_up_after", b.ScaleUpAfter}, {"scale_down_idle", b.ScaleDownIdle}} {
			if d.d < 0 {
				v.add(key+"."+d.k, "must be 0 (the devices.scaling default) or more, got %s", d.d)
			}
		}
	}
	for _, name := range sortedKeys(s.Tenants) {
		q := s.Tenants[name]
		key := "devices.tenants." + name
		if q.Request < 0 || q.Limit < 0 {
			v.add(key, "request and limit must be 0 or more, got request %d, limit %d", q.Request, q.Limit)
		}
		if q.Limit > 0 && q.Request > q.Limit {
			v.add(key+".request", "must not exceed limit (%d), got %d", q.Limit, q.Request)
		}
	}
	v.durationBetween("devices.heartbeat.interval", s.Heartbeat.Interval, time.Millisecond, time.Hour)
	v.between("devices.heartbeat.misses", s.Heartbeat.Misses, 1, 1000)
	v.durationBetween("devices.scaling.scale_up_wait", s.Scaling.ScaleUpWait, time.Millisecond, 24*time.Hour)
	if s.Scaling.ScaleUpBusy <= 0 || s.Scaling.ScaleUpBusy > 1 {
		v.add("devices.scaling.scale_up_busy", "must be more than 0 and at most 1, got %g", s.Scaling.ScaleUpBusy)
	}
	v.durationBetween("devices.scaling.scale_up_after", s.Scaling.ScaleUpAfter, 0, 24*time.Hour)
	v.durationBetween("devices.scaling.scale_down_idle", s.Scaling.ScaleDownIdle, time.Millisecond, 24*time.Hour)
	v.durationBetween("devices.sync_interval", s.SyncInterval, time.Millisecond, time.Hour)
	v.durationBetween("devices.lease_ttl", s.LeaseTTL, time.Millisecond, 7*24*time.Hour)
}
