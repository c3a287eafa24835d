package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestRunLeasesFromPool runs a task end to end: the phone comes from the
// device pool, and a backend the pool does not have is refused with the
// config key to set.
func TestRunLeasesFromPool(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	dir, data := t.TempDir(), t.TempDir()
	copyInto(t, pluginbuild.GoBinary(t, "../../plugins/device-sim", ""), filepath.Join(dir, "device-sim"))
	copyInto(t, pluginbuild.GoBinary(t, "../../examples/device-echo", ""), filepath.Join(dir, "device-echo"))
	copyInto(t, pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", ""), filepath.Join(dir, "planner-intent.wasm"))
	common := []string{"--plugins-dir", dir, "--data-dir", data}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" = success
		wantOut string
	}{
		{"any free phone", []string{"打开设置"}, "", "on device-sim/127.0.0.1:"},
		{"named backend", []string{"--backend", "device-sim", "打开设置"}, "", "succeeded"},
		{"backend not in the pool", []string{"--backend", "device-echo", "--plugin-wait", "1s", "打开设置"},
			"device backend device-echo is not in the pool: enable it with devices.backends.device-echo.enabled: true", ""},
		{"no such device", []string{"--device", "device-sim/nope", "--device-wait", "300ms", "打开设置"},
			"no matching device among the pool's 4 devices", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(append([]string{"run"}, common...), tc.args...)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(string(out), tc.wantOut) {
					t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
				}
				return
			}
			if err == nil || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("run: %v, want an error with %q\nstderr:\n%s", err, tc.wantErr, stderr.String())
			}
		})
	}
}
