package config

import (
	"encoding/json"
	"log/slog"
	"strings"
	"time"
)

// Config is the whole runtime configuration. A *Config returned by Load or
// Watcher.Current is shared: treat it as read-only.
//
// The fields of Config are the known top-level sections; a section that is
// not a field here is rejected as unknown. To add a section (devices, vgpu,
// sched, auth…): add a field with a koanf tag, its defaults in Default, its
// checks in a validate method called from Config.validate, a line in
// restartKeys if it cannot change live, and its keys in
// configs/cloudphone.yaml and docs/config.md (a test fails when either lacks
// a key).
type Config struct {
	API     APIConfig     `koanf:"api"`
	Plugins PluginsConfig `koanf:"plugins"`
	Data    DataConfig    `koanf:"data"`
	Log     LogConfig     `koanf:"log"`
	Cluster ClusterConfig `koanf:"cluster"`
	Devices DevicesConfig `koanf:"devices"`
	Cache   CacheConfig   `koanf:"cache"`
	VGPU    VGPUConfig    `koanf:"vgpu"`
	Sched   SchedConfig   `koanf:"sched"`
	// Telemetry is tracing export.
	Telemetry TelemetryConfig `koanf:"telemetry"`
}

// APIConfig is the HTTP API section.
type APIConfig struct {
	// Listen is the host:port the HTTP API listens on.
	Listen string `koanf:"listen"`
	// MaxBodyKiB bounds a request body.
	MaxBodyKiB int `koanf:"max_body_kib"`
	// TLS serves HTTPS when a certificate is configured.
	TLS TLSConfig `koanf:"tls"`
	// Auth is authentication of API clients.
	Auth AuthConfig `koanf:"auth"`
}

// PluginsConfig is the plugin host section.
type PluginsConfig struct {
	// Dir is the watched plugin directory.
	Dir string `koanf:"dir"`
	// Pin maps a plugin name to the lowercase hex sha256 of the only file
	// the host may load under that name. Names without a pin load any file.
	Pin map[string]string `koanf:"pin"`
	// Config maps a plugin name to its configuration section, handed to the
	// plugin as JSON (see Config.PluginConfigJSON).
	Config map[string]map[string]any `koanf:"config"`
	// WASM holds the limits of WASM plugins.
	WASM WASMConfig `koanf:"wasm"`
	// Process holds the limits of process plugins.
	Process ProcessConfig `koanf:"process"`
	// Debounce is how long a plugin file must be quiet before it is loaded.
	Debounce time.Duration `koanf:"debounce"`
}

// WASMConfig holds the limits of WASM plugins.
type WASMConfig struct {
	// MemoryLimitMiB caps the linear memory of one instance (1–4096).
	MemoryLimitMiB int `koanf:"memory_limit_mib"`
	// CallTimeout is the deadline of one call into a module.
	CallTimeout time.Duration `koanf:"call_timeout"`
	// PoolSize is the number of instances per module; 0 picks one per CPU.
	PoolSize int `koanf:"pool_size"`
	// MaxCallsPerInstance recycles an instance after this many calls so a
	// guest heap cannot grow without bound; 0 never recycles.
	MaxCallsPerInstance int `koanf:"max_calls_per_instance"`
}

// ProcessConfig holds the limits of process plugins.
type ProcessConfig struct {
	// StartTimeout bounds the start, handshake and first Describe of a
	// plugin process.
	StartTimeout time.Duration `koanf:"start_timeout"`
}

// DataConfig is the durable data section.
type DataConfig struct {
	// Dir holds the task store and other durable state.
	Dir string `koanf:"dir"`
	// StepRetention is how long finished tasks' steps are kept; 0 keeps
	// them forever.
	StepRetention time.Duration `koanf:"step_retention"`
	// ScreenshotRetention is how long step screenshots are kept; 0 keeps
	// them as long as their steps.
	ScreenshotRetention time.Duration `koanf:"screenshot_retention"`
}

// LogConfig is the logging section.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is text or json.
	Format string `koanf:"format"`
}

// ClusterConfig is the multi-node section.
type ClusterConfig struct {
	// NATSURL is the NATS server to join (comma-separated URLs allowed);
	// empty runs a single node with an embedded server.
	NATSURL string `koanf:"nats_url"`
	// NodeID names this node in the cluster; empty uses the host name.
	NodeID string `koanf:"node_id"`
	// Listen is where the embedded NATS server accepts other nodes'
	// clients (host:port); empty keeps it in-process only.
	Listen string `koanf:"listen"`
	// AckWait is how long a task may go without its node's heartbeat
	// before another node takes it over.
	AckWait time.Duration `koanf:"ack_wait"`
	// DeviceTTL is how long a node's devices stay in the registry after
	// its last heartbeat.
	DeviceTTL time.Duration `koanf:"device_ttl"`
	// Replicas of the cluster's streams and buckets; 0 picks 1 for an
	// embedded server and 3 for a cluster of three or more servers.
	Replicas int `koanf:"replicas"`
}

// Default returns the built-in configuration: the one a run with no file,
// no CLOUDPHONE_ variables and no flags uses.
func Default() *Config {
	return &Config{
		API: APIConfig{
			Listen:     "127.0.0.1:8080",
			MaxBodyKiB: 1024,
			Auth:       AuthConfig{TokenTTL: 24 * time.Hour},
		},
		Plugins: PluginsConfig{
			Dir: "./plugins.d",
			WASM: WASMConfig{
				MemoryLimitMiB:      256,
				CallTimeout:         2 * time.Second,
				PoolSize:            0,
				MaxCallsPerInstance: 100000,
			},
			Process:  ProcessConfig{StartTimeout: 10 * time.Second},
			Debounce: 50 * time.Millisecond,
		},
		Data:    DataConfig{Dir: "./data", StepRetention: 30 * 24 * time.Hour, ScreenshotRetention: 7 * 24 * time.Hour},
		Log:     LogConfig{Level: "info", Format: "text"},
		Cluster: ClusterConfig{AckWait: 30 * time.Second, DeviceTTL: 15 * time.Second},
		Devices: defaultDevices(),
		Cache:   defaultCache(),
		VGPU:    defaultVGPU(),
		Sched:   defaultSched(),
	}
}

// restartKeys are the keys (or sections) that cannot change while the
// runtime serves: a reload that changes one is refused as a whole. This is
// the one list to extend.
var restartKeys = []string{
	"api.listen",
	"api.tls",
	"api.auth.disabled",
	"vgpu.ring_entries",
	"vgpu.arena_mib",
	"vgpu.wait",
	"telemetry.otlp_endpoint",
	"data.dir",
	"data.step_retention", // the store takes them at open
	"data.screenshot_retention",
	"plugins.dir",
	"plugins.wasm", // the wasm runtime is built once at start
	"plugins.process",
	"plugins.debounce",
	"log.format",
	"cluster", // the cluster connection is made once at start
	"api.auth.registration_secret",
}

// needsRestart reports whether key is, or lies under, a restart key.
func needsRestart(key string) bool {
	for _, r := range restartKeys {
		if key == r || strings.HasPrefix(key, r+".") {
			return true
		}
	}
	return false
}

// PluginConfigJSON returns the plugins.config.<name> section as a JSON
// object, or "{}" when the plugin has none. Load guarantees every section
// encodes; a Config built by hand whose section does not encode also gets
// "{}".
func (c *Config) PluginConfigJSON(name string) []byte {
	sec, ok := c.Plugins.Config[name]
	if !ok || sec == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(sec)
	if err != nil {
		return []byte("{}")
	}
	return b
}

// SlogLevel returns log.level as a slog.Level (info when unknown).
func (l LogConfig) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
