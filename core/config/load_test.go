package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeConfig writes a config file named cloudphone.yaml in a fresh
// directory and returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cloudphone.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// testFlags returns a flag set like the CLI's, parsed from args, and its
// flag → key mapping.
func testFlags(t *testing.T, args ...string) (*pflag.FlagSet, map[string]string) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("listen", "127.0.0.1:8080", "")
	fs.String("plugins-dir", "./plugins.d", "")
	fs.String("data-dir", "./data", "")
	fs.Duration("call-timeout", 2*time.Second, "")
	fs.Int("pool-size", 0, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs, map[string]string{
		"listen":       "api.listen",
		"plugins-dir":  "plugins.dir",
		"data-dir":     "data.dir",
		"call-timeout": "plugins.wasm.call_timeout",
		"pool-size":    "plugins.wasm.pool_size",
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(LoadOptions{Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("Load with no sources = %+v, want Default() %+v", cfg, Default())
	}
	if got := cfg.PluginConfigJSON("absent"); string(got) != "{}" {
		t.Errorf("PluginConfigJSON(absent) = %s, want {}", got)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeConfig(t, `
api:
  listen: "10.0.0.1:1"
data:
  dir: /file/data
plugins:
  dir: /file/plugins
  wasm:
    pool_size: 3
    call_timeout: 5s
  pin:
    a: "`+strings.Repeat("A", 64)+`"
  config:
    planner:
      depth: 2
      nested: {x: [1, "two"]}
cluster:
  nats_url: nats://file:4222
`)
	tests := []struct {
		name  string
		file  string
		env   []string
		args  []string
		check func(t *testing.T, c *Config)
	}{
		{"defaults only", "", nil, nil, func(t *testing.T, c *Config) {
			eq(t, "api.listen", c.API.Listen, "127.0.0.1:8080")
			eq(t, "plugins.dir", c.Plugins.Dir, "./plugins.d")
			eq(t, "cluster.nats_url", c.Cluster.NATSURL, "")
		}},
		{"file over defaults", file, nil, nil, func(t *testing.T, c *Config) {
			eq(t, "api.listen", c.API.Listen, "10.0.0.1:1")
			eq(t, "data.dir", c.Data.Dir, "/file/data")
			eq(t, "plugins.wasm.pool_size", c.Plugins.WASM.PoolSize, 3)
			eq(t, "plugins.wasm.call_timeout", c.Plugins.WASM.CallTimeout, 5*time.Second)
			eq(t, "plugins.wasm.memory_limit_mib", c.Plugins.WASM.MemoryLimitMiB, 256) // default kept
			eq(t, "plugins.pin.a", c.Plugins.Pin["a"], strings.Repeat("a", 64))        // normalized
			eq(t, "plugins.config.planner", string(c.PluginConfigJSON("planner")), `{"depth":2,"nested":{"x":[1,"two"]}}`)
			eq(t, "cluster.nats_url", c.Cluster.NATSURL, "nats://file:4222")
		}},
		{"env over file", file, []string{
			"CLOUDPHONE_API__LISTEN=10.0.0.2:2",
			"CLOUDPHONE_CLUSTER__NATS_URL=nats://env:4222",
			"CLOUDPHONE_PLUGINS__WASM__POOL_SIZE=4",
			"CLOUDPHONE_PLUGINS__WASM__CALL_TIMEOUT=750ms",
			"CLOUDPHONE_PLUGINS__PIN__B=" + strings.Repeat("b", 64),
			"CLOUDPHONE_PLUGINS__CONFIG__PLANNER__MODE=fast",
			"CLOUDPHONE_SERVICE_HOST=10.1.1.1", // Kubernetes service variable: not a key
			"OTHER__API__LISTEN=x",
		}, nil, func(t *testing.T, c *Config) {
			eq(t, "api.listen", c.API.Listen, "10.0.0.2:2")
			eq(t, "cluster.nats_url", c.Cluster.NATSURL, "nats://env:4222")
			eq(t, "plugins.wasm.pool_size", c.Plugins.WASM.PoolSize, 4)
			eq(t, "plugins.wasm.call_timeout", c.Plugins.WASM.CallTimeout, 750*time.Millisecond)
			eq(t, "data.dir", c.Data.Dir, "/file/data")
			eq(t, "pins", len(c.Plugins.Pin), 2) // maps merge
			eq(t, "plugins.config.planner", string(c.PluginConfigJSON("planner")), `{"depth":2,"mode":"fast","nested":{"x":[1,"two"]}}`)
		}},
		{"flags over env", file, []string{"CLOUDPHONE_API__LISTEN=10.0.0.2:2", "CLOUDPHONE_PLUGINS__WASM__POOL_SIZE=4"},
			[]string{"--listen", "10.0.0.3:3", "--plugins-dir", "/flag/plugins", "--call-timeout", "9s"},
			func(t *testing.T, c *Config) {
				eq(t, "api.listen", c.API.Listen, "10.0.0.3:3")
				eq(t, "plugins.dir", c.Plugins.Dir, "/flag/plugins")
				eq(t, "plugins.wasm.call_timeout", c.Plugins.WASM.CallTimeout, 9*time.Second)
				eq(t, "plugins.wasm.pool_size", c.Plugins.WASM.PoolSize, 4) // --pool-size not set
				eq(t, "data.dir", c.Data.Dir, "/file/data")                 // --data-dir not set
			}},
		{"env mapping with underscores in keys", "", []string{"CLOUDPHONE_CLUSTER__NATS_URL=nats://a:1,nats://b:2"}, nil,
			func(t *testing.T, c *Config) {
				eq(t, "cluster.nats_url", c.Cluster.NATSURL, "nats://a:1,nats://b:2")
			}},
		{"null section keeps defaults", writeConfig(t, "api:\nplugins:\n  wasm:\n"), nil, nil, func(t *testing.T, c *Config) {
			eq(t, "api.listen", c.API.Listen, "127.0.0.1:8080")
			eq(t, "plugins.wasm.memory_limit_mib", c.Plugins.WASM.MemoryLimitMiB, 256)
		}},
		{"empty file", writeConfig(t, "# nothing\n"), nil, nil, func(t *testing.T, c *Config) {
			if d := Diff(Default(), c); len(d) != 0 {
				t.Errorf("empty file differs from defaults in %v", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{File: tt.file, Env: tt.env}
			if opts.Env == nil {
				opts.Env = []string{}
			}
			if tt.args != nil {
				opts.Flags, opts.FlagKeys = testFlags(t, tt.args...)
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func eq[T comparable](t *testing.T, key string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // contents of cloudphone.yaml; "" for no file
		env  []string
		args []string
		want []string // each error line, in order, must contain the matching entry
	}{
		{"malformed YAML", "api:\n  listen: \"127.0.0.1:8080\n", nil, nil,
			[]string{"cloudphone.yaml:2: malformed YAML: "}},
		{"bad indentation", "api:\n  listen: x\n dir: y\n", nil, nil,
			[]string{"config cloudphone.yaml:2: malformed YAML: did not find expected key"}},
		{"duplicate key", "api:\n  listen: a:1\n  listen: b:2\n", nil, nil,
			[]string{`cloudphone.yaml:3: malformed YAML: mapping key "listen" already defined at line 2`}},
		{"top level not a mapping", "- api\n", nil, nil,
			[]string{"cloudphone.yaml:1: the top level must be a mapping"}},
		{"unknown key", "api:\n  listn: 127.0.0.1:8080\n", nil, nil,
			[]string{"config cloudphone.yaml:2: api.listn: unknown key (did you mean api.listen?)"}},
		{"unknown section", "\n\nphonez:\n  count: 3\n", nil, nil,
			[]string{"cloudphone.yaml:3: phonez: unknown section (known sections: api, plugins, data, log, cluster, devices, cache, vgpu, sched, telemetry)"}},
		{"unknown key in a backend", "devices:\n  backends:\n    device-sim:\n      mx: 3\n", nil, nil,
			[]string{"cloudphone.yaml:4: devices.backends.device-sim.mx: unknown key (did you mean devices.backends.device-sim.max?)"}},
		{"backend min over max", "devices:\n  backends:\n    device-sim:\n      min: 3\n      max: 2\n", nil, nil,
			[]string{"cloudphone.yaml:4: devices.backends.device-sim.min: must not exceed max (2), got 3"}},
		{"bad taint", "devices:\n  backends:\n    device-sim:\n      taints: [\"gpu=1:NoExecute\"]\n", nil, nil,
			[]string{"devices.backends.device-sim.taints: taint \"gpu=1:NoExecute\": the only effect is NoSchedule"}},
		{"tenant request over limit", "devices:\n  tenants:\n    a:\n      request: 3\n      limit: 1\n", nil, nil,
			[]string{"cloudphone.yaml:4: devices.tenants.a.request: must not exceed limit (1), got 3"}},
		{"slice with an unknown key", "vgpu:\n  slices:\n    - {name: a, memory_mib: 10, compute_percent: 50, memmory: 3}\n", nil, nil,
			[]string{"vgpu.slices.0.memmory: unknown key (known: name, memory_mib, compute_percent, models, tenants)"}},
		{"slices not a list", "vgpu:\n  slices: {name: a}\n", nil, nil,
			[]string{"vgpu.slices: must be a list of mappings"}},
		{"slices over 100 percent", "vgpu:\n  slices:\n    - {name: a, memory_mib: 10, compute_percent: 60}\n    - {name: b, memory_mib: 10, compute_percent: 60, models: [m]}\n", nil, nil,
			[]string{"vgpu.slices: compute_percent of all slices adds up to 120; it must be at most 100"}},
		{"slice name twice", "vgpu:\n  slices:\n    - {name: a, memory_mib: 10, compute_percent: 10}\n    - {name: a, memory_mib: 10, compute_percent: 10}\n", nil, nil,
			[]string{`vgpu.slices.1.name: slice "a" is already defined by vgpu.slices.0`}},
		{"model in two slices", "vgpu:\n  slices:\n    - {name: a, memory_mib: 10, compute_percent: 10, models: [m]}\n    - {name: b, memory_mib: 10, compute_percent: 10, models: [m]}\n", nil, nil,
			[]string{`vgpu.slices.1.models: model "m" is already served by slice "a"`}},
		{"section typo", "plugin:\n  dir: x\n", nil, nil,
			[]string{"cloudphone.yaml:1: plugin: unknown section (did you mean plugins?)"}},
		{"key at the wrong level", "listen: 127.0.0.1:1\n", nil, nil,
			[]string{"cloudphone.yaml:1: listen: unknown section (did you mean api.listen?)"}},
		{"dotted key", "api.listen: x\n", nil, nil,
			[]string{"cloudphone.yaml:1: api.listen: unknown section; keys must not contain dots"}},
		{"bad duration", "plugins:\n  wasm:\n    call_timeout: 2 seconds\n", nil, nil,
			[]string{`cloudphone.yaml:3: plugins.wasm.call_timeout: must be a duration such as "2s" or "100ms", got "2 seconds"`}},
		{"duration without unit", "plugins:\n  debounce: 100\n", nil, nil,
			[]string{`cloudphone.yaml:2: plugins.debounce: must be a duration with a unit`}},
		{"bad pin", "plugins:\n  pin:\n    planner: abc123\n", nil, nil,
			[]string{`cloudphone.yaml:3: plugins.pin.planner: must be 64 hex characters`}},
		{"bad memory limit", "plugins:\n  wasm:\n    memory_limit_mib: 0\n", nil, nil,
			[]string{"config cloudphone.yaml:3: plugins.wasm.memory_limit_mib: must be between 1 and 4096, got 0"}},
		{"not an integer", "plugins:\n  wasm:\n    pool_size: lots\n", nil, nil,
			[]string{`cloudphone.yaml:3: plugins.wasm.pool_size: must be an integer, got "lots"`}},
		{"scalar for a section", "api: 5\n", nil, nil,
			[]string{"cloudphone.yaml:1: api: must be a mapping (a section), got 5"}},
		{"plugin config not a mapping", "plugins:\n  config:\n    planner: fast\n", nil, nil,
			[]string{`cloudphone.yaml:3: plugins.config.planner: must be a mapping, got "fast"`}},
		{"bad log level", "log:\n  level: verbose\n", nil, nil,
			[]string{`cloudphone.yaml:2: log.level: must be one of debug, info, warn, error, got "verbose"`}},
		{"bad listen", "api:\n  listen: localhost\n", nil, nil,
			[]string{`cloudphone.yaml:2: api.listen: must be host:port`}},
		{"bad nats url", "cluster:\n  nats_url: not a url\n", nil, nil,
			[]string{`cloudphone.yaml:2: cluster.nats_url: must be empty or URLs`}},
		{"all problems in file order", "plugins:\n  wasm:\n    memory_limit_mib: 0\n    call_timeout: soon\napi:\n  listn: x\nlog:\n  level: loud\n",
			[]string{"CLOUDPHONE_PLUGINS__WASM__POOL_SIZE=many"}, nil,
			[]string{
				"cloudphone.yaml:3: plugins.wasm.memory_limit_mib",
				"cloudphone.yaml:4: plugins.wasm.call_timeout",
				"cloudphone.yaml:6: api.listn: unknown key",
				"cloudphone.yaml:8: log.level",
				"env CLOUDPHONE_PLUGINS__WASM__POOL_SIZE: plugins.wasm.pool_size: must be an integer",
			}},
		{"env not parsable", "", []string{"CLOUDPHONE_PLUGINS__WASM__CALL_TIMEOUT=2 s"}, nil,
			[]string{`config env CLOUDPHONE_PLUGINS__WASM__CALL_TIMEOUT: plugins.wasm.call_timeout: must be a duration`}},
		{"env unknown key", "", []string{"CLOUDPHONE_API__LISTN=x"}, nil,
			[]string{"env CLOUDPHONE_API__LISTN: api.listn: unknown key (did you mean CLOUDPHONE_API__LISTEN?)"}},
		{"env malformed name", "", []string{"CLOUDPHONE_API____LISTEN=x"}, nil,
			[]string{"env CLOUDPHONE_API____LISTEN: malformed name"}},
		{"env conflict", "", []string{"CLOUDPHONE_PLUGINS__WASM=1", "CLOUDPHONE_PLUGINS__WASM__POOL_SIZE=2"}, nil,
			[]string{"env CLOUDPHONE_PLUGINS__WASM: plugins.wasm: must be a mapping",
				"env CLOUDPHONE_PLUGINS__WASM__POOL_SIZE: plugins.wasm.pool_size: conflicts with the value already set for plugins.wasm"}},
		{"env value overrides a good file value", "api:\n  listen: 127.0.0.1:1\n", []string{"CLOUDPHONE_API__LISTEN="}, nil,
			[]string{"env CLOUDPHONE_API__LISTEN: api.listen: must be host:port"}},
		{"flag value", "", nil, []string{"--listen", "nowhere"},
			[]string{"flag --listen: api.listen: must be host:port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Env: tt.env}
			if opts.Env == nil {
				opts.Env = []string{}
			}
			if tt.file != "" {
				opts.File = writeConfig(t, tt.file)
			}
			if tt.args != nil {
				opts.Flags, opts.FlagKeys = testFlags(t, tt.args...)
			}
			cfg, err := Load(opts)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", cfg)
			}
			// Messages name the file as given; drop the temporary directory.
			text := err.Error()
			if opts.File != "" {
				text = strings.ReplaceAll(text, filepath.Dir(opts.File)+string(filepath.Separator), "")
			}
			lines := strings.Split(text, "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tt.want), err)
			}
			t.Log(text)
			for i, want := range tt.want {
				if i >= len(lines) || !strings.Contains(lines[i], want) {
					t.Errorf("error %d does not contain %q; all errors:\n%v", i, want, err)
				}
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("errors.As(*Error) failed for %v", err)
			}
		})
	}
}

func TestLoadFlagMappingErrors(t *testing.T) {
	fs, _ := testFlags(t)
	_, err := Load(LoadOptions{Env: []string{}, Flags: fs, FlagKeys: map[string]string{"nope": "api.listen", "listen": "api.lisen"}})
	if err == nil {
		t.Fatal("Load accepted a mapping to an undefined flag and an unknown key")
	}
	for _, want := range []string{"flag --nope: api.listen: no such flag is defined", "flag --listen: api.lisen: unknown key (did you mean api.listen?)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "absent.yaml"), Env: []string{}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want ErrNotExist", err)
	}
}
