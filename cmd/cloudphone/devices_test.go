package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestDevices lists the pool with `cloudphone devices --json`, in-process
// (no server) and from a server, and checks the keys of every object.
func TestDevices(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	dir, data := t.TempDir(), t.TempDir()
	copyInto(t, pluginbuild.GoBinary(t, "../../plugins/device-sim", ""), filepath.Join(dir, "device-sim"))
	cfg := filepath.Join(t.TempDir(), "cloudphone.yaml")
	os.WriteFile(cfg, []byte("plugins:\n  config:\n    device-sim: {count: 2, listen: \"127.0.0.1:0\"}\n"), 0o644)
	common := []string{"--config", cfg, "--plugins-dir", dir, "--data-dir", data}

	check := func(t *testing.T, out []byte) {
		t.Helper()
		var devs []map[string]any
		if err := json.Unmarshal(out, &devs); err != nil {
			t.Fatalf("devices --json: %v\n%s", err, out)
		}
		if len(devs) != 2 {
			t.Fatalf("want 2 devices, got %s", out)
		}
		for _, key := range []string{"id", "backend", "labels", "state", "lease", "health"} {
			if _, ok := devs[0][key]; !ok {
				t.Errorf("object lacks %q: %v", key, devs[0])
			}
		}
		if devs[0]["backend"] != "device-sim" || devs[0]["state"] != "free" || devs[0]["lease"] != nil {
			t.Errorf("device %v", devs[0])
		}
	}
	for _, tc := range []struct {
		name   string
		server bool
	}{{"local", false}, {"server", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := append([]string{"devices", "--json"}, common...)
			if tc.server {
				url := startServe(t, bin, common...)
				args = append(args, "--server", url)
				var bks []map[string]any
				getJSON(t, url+"/api/v1/backends", &bks)
				if len(bks) != 1 || bks[0]["name"] != "device-sim" || bks[0]["plugin"] != "active" || bks[0]["ok"] != true {
					t.Errorf("backends %v", bks)
				}
			} else {
				args = append(args, "--listen", "127.0.0.1:1") // no server there
			}
			out, err := exec.CommandContext(ctx, bin, args...).Output()
			if err != nil {
				t.Fatalf("devices: %v", err)
			}
			check(t, out)
		})
	}
}
