package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var (
	examplePath = filepath.Join("..", "..", "configs", "cloudphone.yaml")
	docsPath    = filepath.Join("..", "..", "docs", "config.md")
)

// TestExampleConfig checks that configs/cloudphone.yaml loads cleanly, sets
// every key and sets each to its default.
func TestExampleConfig(t *testing.T) {
	cfg, err := Load(LoadOptions{File: examplePath, Env: []string{}})
	if err != nil {
		t.Fatalf("the example config does not load:\n%v", err)
	}
	if d := Diff(Default(), cfg); len(d) != 0 {
		t.Errorf("the example config differs from the defaults in %v", d)
	}
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range Keys() {
		var v any = raw
		for part := range strings.SplitSeq(key, ".") {
			m, _ := v.(map[string]any)
			v = m[part]
			if _, ok := m[part]; !ok {
				t.Errorf("the example config lacks %s", key)
				break
			}
		}
	}
}

// TestDocsListEveryKey checks that docs/config.md has a row for every key
// with its environment variable and whether it can change live.
func TestDocsListEveryKey(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, "| `") {
			key, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			rows[key] = line
		}
	}
	for _, key := range Keys() {
		row, ok := rows[key]
		if !ok {
			t.Errorf("docs/config.md has no row for %s", key)
			continue
		}
		if !strings.Contains(row, "`"+EnvName(key)) {
			t.Errorf("docs/config.md row for %s lacks %s", key, EnvName(key))
		}
		want := "| live |"
		if needsRestart(key) {
			want = "| restart |"
		}
		if !strings.HasSuffix(row, want) {
			t.Errorf("docs/config.md row for %s should end with %q", key, want)
		}
		delete(rows, key)
	}
	for key := range rows {
		t.Errorf("docs/config.md documents %s, which is not a key", key)
	}
}

func TestDiff(t *testing.T) {
	a := Default()
	b := Default()
	b.API.Listen = ":1"
	b.Plugins.Pin = map[string]string{"p": strings.Repeat("0", 64)}
	b.Plugins.Config = map[string]map[string]any{"q": {"x": 1}}
	b.Plugins.WASM.CallTimeout = 1
	got := fmt.Sprint(Diff(a, b))
	if want := "[api.listen plugins.pin.p plugins.config.q plugins.wasm.call_timeout]"; got != want {
		t.Errorf("Diff = %s, want %s", got, want)
	}
	if d := Diff(b, b); d != nil {
		t.Errorf("Diff(b, b) = %v", d)
	}
	if d := Diff(nil, nil); d != nil {
		t.Errorf("Diff(nil, nil) = %v", d)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	c.Plugins.WASM.MemoryLimitMiB = 0
	c.Log.Format = "xml"
	err := c.Validate()
	want := "config: plugins.wasm.memory_limit_mib: must be between 1 and 4096, got 0\nconfig: log.format: must be one of text, json, got \"xml\""
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}

func TestSlogLevel(t *testing.T) {
	for _, l := range []string{"debug", "info", "warn", "error"} {
		if got := (LogConfig{Level: l}).SlogLevel().String(); !strings.EqualFold(got, l) {
			t.Errorf("SlogLevel(%s) = %s", l, got)
		}
	}
}

func ExampleLoad() {
	cfg, err := Load(LoadOptions{
		Env: []string{"CLOUDPHONE_CLUSTER__NATS_URL=nats://10.0.0.1:4222", "CLOUDPHONE_LOG__LEVEL=debug"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.API.Listen, cfg.Cluster.NATSURL, cfg.Log.Level)
	// Output: 127.0.0.1:8080 nats://10.0.0.1:4222 debug
}

func ExampleLoad_errors() {
	_, err := Load(LoadOptions{Env: []string{
		"CLOUDPHONE_PLUGINS__WASM__MEMORY_LIMIT_MIB=0",
		"CLOUDPHONE_API__LISTN=:80",
	}})
	fmt.Println(err)
	// Output:
	// config env CLOUDPHONE_API__LISTN: api.listn: unknown key (did you mean CLOUDPHONE_API__LISTEN?)
	// config env CLOUDPHONE_PLUGINS__WASM__MEMORY_LIMIT_MIB: plugins.wasm.memory_limit_mib: must be between 1 and 4096, got 0
}
