package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
			var env []string
			if tc.server {
				// Auth on: the CLI must send a token (--token or
				// CLOUDPHONE_TOKEN) and says how to get one when it lacks it.
				url, _ := startServeEnv(t, bin, nil, common...)
				args = append(args, "--server", url)
				out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
				if err == nil || !strings.Contains(string(out), "401") || !strings.Contains(string(out), "cloudphone token create") {
					t.Fatalf("devices without a token: %v\n%s", err, out)
				}
				tok := mintToken(t, bin, data, "viewer")
				env = append(os.Environ(), "CLOUDPHONE_TOKEN="+tok)
				bk := exec.CommandContext(ctx, bin, "devices", "--json", "--backends", "--server", url, "--token", tok)
				out, err = bk.Output()
				var bks []map[string]any
				if err != nil || json.Unmarshal(out, &bks) != nil {
					t.Fatalf("devices --backends: %v\n%s", err, out)
				}
				if len(bks) != 1 || bks[0]["name"] != "device-sim" || bks[0]["plugin"] != "active" || bks[0]["ok"] != true {
					t.Errorf("backends %v", bks)
				}
				pl := exec.CommandContext(ctx, bin, "plugins", "--json", "--server", url)
				pl.Env = env
				out, err = pl.Output()
				var rows []map[string]any
				if err != nil || json.Unmarshal(out, &rows) != nil || len(rows) != 1 || rows[0]["name"] != "device-sim" {
					t.Fatalf("plugins --server with CLOUDPHONE_TOKEN: %v\n%s", err, out)
				}
			} else {
				args = append(args, "--listen", "127.0.0.1:1") // no server there
			}
			c := exec.CommandContext(ctx, bin, args...)
			c.Env = env
			out, err := c.Output()
			if err != nil {
				t.Fatalf("devices: %v", err)
			}
			check(t, out)
		})
	}
}

// mintToken makes a token of role for tenant default with `cloudphone
// token create` against data's signing key (its output's last line).
func mintToken(t *testing.T, bin, data, role string) string {
	t.Helper()
	out, err := exec.Command(bin, "token", "create", "--role", role, "--tenant", "default", "--data-dir", data).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}
