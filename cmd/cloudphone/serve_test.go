package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// startServe runs `cloudphone serve` with authentication off
// (api.auth.disabled) on an ephemeral port and returns its base URL: for
// tests that read the API with plain GETs (TestDevices covers the CLI's
// tokens with auth on). The process is stopped when the test ends.
func startServe(t *testing.T, bin string, args ...string) string {
	t.Helper()
	url, _ := startServeEnv(t, bin, []string{config.EnvName("api.auth.disabled") + "=true"}, args...)
	return url
}

// startServeEnv runs `cloudphone serve` with env added to the
// environment and returns its base URL and process.
func startServeEnv(t *testing.T, bin string, env []string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	urlc := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving on (http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return u, cmd
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60s")
		return "", nil
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %s: %v", url, body, err)
	}
	return resp.StatusCode
}

func TestServeHotLoadsPlugins(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	dir, data := t.TempDir(), t.TempDir()
	url := startServe(t, bin, "--plugins-dir", dir, "--data-dir", data)

	var health map[string]string
	if code := getJSON(t, url+"/healthz", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("healthz: %d %v", code, health)
	}
	var errBody map[string]map[string]string
	if code := getJSON(t, url+"/api/v1/nope", &errBody); code != 404 || errBody["error"]["code"] != "not_found" {
		t.Fatalf("unknown route: %d %v", code, errBody)
	}

	echo := pluginbuild.GoBinary(t, "../../examples/device-echo", "-X main.version=9.9.9")
	copyInto(t, echo, filepath.Join(dir, "device-echo"))
	os.WriteFile(filepath.Join(dir, "broken.wasm"), []byte("\x00asm\x01\x00\x00\x00\x01"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a plugin"), 0o644)

	var rows []pluginhost.Status
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, url+"/api/v1/plugins", &rows)
		if len(rows) == 2 && rows[0].State != pluginhost.StateLoading && rows[1].State != pluginhost.StateLoading {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugins never settled: %+v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	byName := map[string]pluginhost.Status{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	if e := byName["device-echo"]; e.State != "active" || e.Kind != "device" || e.Version != "9.9.9" ||
		e.Transport != "process" || len(e.SHA256) != 64 || e.LoadedAt == nil {
		t.Fatalf("device-echo row: %+v", e)
	}
	if b := byName["broken"]; b.State != "rejected" || !strings.Contains(b.Error, "broken.wasm") {
		t.Fatalf("broken row: %+v", b)
	}

	// The CLI against the server, as JSON.
	out, err := exec.Command(bin, "plugins", "--json", "--server", url).Output()
	if err != nil {
		t.Fatalf("cloudphone plugins: %v", err)
	}
	var cli []map[string]any
	if err := json.Unmarshal(out, &cli); err != nil {
		t.Fatalf("plugins --json: %v\n%s", err, out)
	}
	for _, key := range []string{"name", "kind", "version", "transport", "file", "sha256", "state", "error", "loaded_at"} {
		if _, ok := cli[0][key]; !ok {
			t.Errorf("plugins --json: object lacks %q: %v", key, cli[0])
		}
	}
	// Human output.
	out, err = exec.Command(bin, "plugins", "--server", url).Output()
	if err != nil || !strings.Contains(string(out), "device-echo") || !strings.Contains(string(out), "rejected") {
		t.Fatalf("plugins: %v\n%s", err, out)
	}
	// A server that is not there is an error when named explicitly.
	if err := exec.Command(bin, "plugins", "--server", "http://127.0.0.1:1").Run(); err == nil {
		t.Fatal("plugins --server to a closed port succeeded")
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("api:\n  listn: 127.0.0.1:1\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bad.yaml:2") || !strings.Contains(string(out), "api.listn") {
		t.Fatalf("want a config error naming the key and line, got %v:\n%s", err, out)
	}
}

func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp")
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}
