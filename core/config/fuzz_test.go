package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as the config file: loading must never
// panic, and a config it accepts must be valid and encode its plugin
// sections as JSON.
func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile(filepath.Join("..", "..", "configs", "cloudphone.yaml")); err == nil {
		f.Add(example)
	}
	f.Add([]byte("api:\n  listen: 127.0.0.1:1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := load(LoadOptions{File: "fuzz.yaml", Env: []string{}}, data)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if err := l.cfg.Validate(); err != nil {
			t.Errorf("load accepted a config that does not validate: %v", err)
		}
		for name := range l.cfg.Plugins.Config {
			if !json.Valid(l.cfg.PluginConfigJSON(name)) {
				t.Errorf("plugins.config.%s is not valid JSON", name)
			}
		}
		_ = Diff(Default(), l.cfg)
	})
}
