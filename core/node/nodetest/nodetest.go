// Package nodetest prepares what tests of a server node (core/node, the
// console's browser test, telemetry's end-to-end test) start it with: a
// plugin directory holding simulated phones and the offline planner, and a
// config file over it. It is for tests only.
package nodetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// root is the repository's root directory.
func root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("nodetest: cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// PluginDir returns a new directory holding the device-sim process plugin
// and the planner-intent wasm module (each built once per test binary).
func PluginDir(t testing.TB) string {
	t.Helper()
	r := root(t)
	dir := t.TempDir()
	for src, name := range map[string]string{
		pluginbuild.GoBinary(t, filepath.Join(r, "plugins", "device-sim"), ""):           "device-sim",
		pluginbuild.BuildWasm(t, filepath.Join(r, "wasm-modules", "planner-intent"), ""): "planner-intent.wasm",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Config is a server node's config for a test.
type Config struct {
	// Plugins and Data are the plugin and data directories.
	Plugins, Data string
	// Phones is how many simulated phones device-sim serves (default 2).
	Phones int
	// API is added to the api section, each line indented two spaces.
	API string
	// Tail is added at the top level.
	Tail string
}

// WriteConfig writes c to path atomically (a node watches its config): the
// API on 127.0.0.1:0, device-sim's phones on ports the system picks.
func WriteConfig(t testing.TB, path string, c Config) {
	t.Helper()
	if c.Phones == 0 {
		c.Phones = 2
	}
	body := fmt.Sprintf("api:\n  listen: 127.0.0.1:0\n%splugins:\n  dir: %q\n  config:\n    device-sim: {count: %d, listen: \"127.0.0.1:0\"}\ndata:\n  dir: %q\ndevices:\n  backends:\n    device-sim: {enabled: true}\n%s",
		c.API, c.Plugins, c.Phones, c.Data, c.Tail)
	if err := os.WriteFile(path+".tmp", []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}
