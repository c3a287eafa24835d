package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks a Config built in code (Load already validates what it
// returns). Problems are *Error values without a source, joined.
func (c *Config) Validate() error {
	var errs []*Error
	for _, p := range c.validate() {
		errs = append(errs, newError(source{kind: fromCode}, p.key, p.msg))
	}
	return joinErrors(errs)
}

// normalize puts values that have several spellings into one, before
// validation.
func (c *Config) normalize() {
	for name, pin := range c.Plugins.Pin {
		c.Plugins.Pin[name] = strings.ToLower(strings.TrimSpace(pin))
	}
}

// validate returns every problem of every section, in key order.
func (c *Config) validate() []problem {
	var v checker
	c.API.validate(&v)
	c.Plugins.validate(&v)
	c.Data.validate(&v)
	c.Log.validate(&v)
	c.Cluster.validate(&v)
	c.Devices.validate(&v)
	c.Cache.validate(&v)
	c.VGPU.validate(&v)
	c.Sched.validate(&v)
	c.Telemetry.validate(&v)
	return v.problems
}

// checker collects problems; its helpers keep each check to one line.
type checker struct {
	problems []problem
}

func (v *checker) add(key, format string, args ...any) {
	v.problems = append(v.problems, problem{key: key, msg: fmt.Sprintf(format, args...)})
}

func (v *checker) nonEmpty(key, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(key, "must not be empty")
	}
}

func (v *checker) between(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (v *checker) durationBetween(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(key, "must be between %s and %s, got %s", lo, hi, d)
	}
}

func (v *checker) oneOf(key, s string, allowed ...string) {
	if !slices.Contains(allowed, s) {
		v.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
	}
}

// hostPort checks a listen address such as "127.0.0.1:8080" or ":8080".
func (v *checker) hostPort(key, s string) {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(key, "must be host:port such as \"127.0.0.1:8080\", got %q", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "port must be a number from 0 to 65535, got %q", port)
	}
}

// url checks an absolute http(s) URL.
func (v *checker) url(key, s string) {
	p, err := url.Parse(s)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		v.add(key, "must be an http:// or https:// URL such as \"http://127.0.0.1:4318\", got %q", s)
	}
}

// pluginName matches the names plugins may have: no dots, since a dot
// separates key levels.
var pluginName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// sha256Hex matches a lowercase hex sha256 digest.
var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *APIConfig) validate(v *checker) {
	v.hostPort("api.listen", s.Listen)
	v.between("api.max_body_kib", s.MaxBodyKiB, 1, 1<<20)
	s.TLS.validate(v)
	s.Auth.validate(v)
}

func (s *PluginsConfig) validate(v *checker) {
	v.nonEmpty("plugins.dir", s.Dir)
	for _, name := range sortedKeys(s.Pin) {
		key := "plugins.pin." + name
		if !pluginName.MatchString(name) {
			v.add(key, "plugin name must be letters, digits, - and _")
		}
		if pin := s.Pin[name]; !sha256Hex.MatchString(pin) {
			v.add(key, "must be 64 hex characters (a sha256 digest; quote it in YAML), got %q (%d characters)", pin, len(pin))
		}
	}
	for _, name := range sortedKeys(s.Config) {
		if !pluginName.MatchString(name) {
			v.add("plugins.config."+name, "plugin name must be letters, digits, - and _")
		}
	}
	v.between("plugins.wasm.memory_limit_mib", s.WASM.MemoryLimitMiB, 1, 4096)
	v.durationBetween("plugins.wasm.call_timeout", s.WASM.CallTimeout, time.Millisecond, time.Hour)
	v.between("plugins.wasm.pool_size", s.WASM.PoolSize, 0, 4096)
	if s.WASM.MaxCallsPerInstance < 0 {
		v.add("plugins.wasm.max_calls_per_instance", "must be 0 (never recycle) or more, got %d", s.WASM.MaxCallsPerInstance)
	}
	v.durationBetween("plugins.process.start_timeout", s.Process.StartTimeout, time.Millisecond, time.Hour)
	v.durationBetween("plugins.debounce", s.Debounce, 0, time.Minute)
}

func (s *DataConfig) validate(v *checker) {
	v.nonEmpty("data.dir", s.Dir)
	v.durationBetween("data.step_retention", s.StepRetention, 0, 100*365*24*time.Hour)
	v.durationBetween("data.screenshot_retention", s.ScreenshotRetention, 0, 100*365*24*time.Hour)
}

func (s *LogConfig) validate(v *checker) {
	v.oneOf("log.level", s.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", s.Format, "text", "json")
}

func (s *ClusterConfig) validate(v *checker) {
	if s.NodeID != "" && !pluginName.MatchString(s.NodeID) {
		v.add("cluster.node_id", "must be letters, digits, - and _, got %q", s.NodeID)
	}
	if s.Listen != "" {
		v.hostPort("cluster.listen", s.Listen)
	}
	v.durationBetween("cluster.ack_wait", s.AckWait, time.Second, time.Hour)
	v.durationBetween("cluster.device_ttl", s.DeviceTTL, time.Second, time.Hour)
	v.between("cluster.replicas", s.Replicas, 0, 5)
	if s.NATSURL == "" {
		return
	}
	for u := range strings.SplitSeq(s.NATSURL, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Scheme == "" || p.Host == "" {
			v.add("cluster.nats_url", "must be empty or URLs such as \"nats://10.0.0.1:4222\", got %q", u)
			return
		}
	}
}

// sortedKeys returns the keys of m in order, so problems come out stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
