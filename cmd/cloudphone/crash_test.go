package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/tasks"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// taskServer is a `cloudphone serve` child process with auth on, over
// simulated phones and the offline planner.
type taskServer struct {
	bin, plugins, data, cfg string
}

func newTaskServer(t *testing.T, profile string) *taskServer {
	t.Helper()
	s := &taskServer{bin: pluginbuild.GoBinary(t, "./", ""), plugins: t.TempDir(), data: t.TempDir()}
	copyInto(t, pluginbuild.GoBinary(t, "../../plugins/device-sim", ""), filepath.Join(s.plugins, "device-sim"))
	copyInto(t, pluginbuild.BuildWasm(t, "../../wasm-modules/planner-intent", ""), filepath.Join(s.plugins, "planner-intent.wasm"))
	s.cfg = filepath.Join(t.TempDir(), "cloudphone.yaml")
	body := fmt.Sprintf("plugins:\n  config:\n    device-sim: {count: 2, listen: \"127.0.0.1:0\", profile: %s}\n", profile)
	if err := os.WriteFile(s.cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *taskServer) start(t *testing.T) (string, *exec.Cmd) {
	t.Helper()
	return startServeEnv(t, s.bin, nil, "--config", s.cfg, "--plugins-dir", s.plugins, "--data-dir", s.data)
}

// token mints a token with `cloudphone token create` (its last line).
func (s *taskServer) token(t *testing.T, role, tenant string) string {
	t.Helper()
	out, err := exec.Command(s.bin, "token", "create", "--role", role, "--tenant", tenant, "--data-dir", s.data).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// api does one authenticated JSON call.
func api(t *testing.T, method, url, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// TestServeKill9: tasks are submitted, the server is killed with SIGKILL
// while some run, and restarted on the same data directory: every task is
// there, each ends exactly once (one final event), those that were running
// are interrupted and none ran twice; those still queued run after the
// restart.
func TestServeKill9(t *testing.T) {
	s := newTaskServer(t, "phone")
	url, cmd := s.start(t)
	tok := s.token(t, "operator", "default")
	waitFor(t, func() bool { return api(t, "GET", url+"/readyz", "", nil, nil) == 200 })

	const n = 6
	var ids []string
	for i := range n {
		var task tasks.Task
		instr := []string{"打开设置然后打开飞行模式", "open settings and then turn on wifi", "打开微信"}[i%3]
		if code := api(t, "POST", url+"/api/v1/run", tok, map[string]any{"instruction": instr}, &task); code != 202 {
			t.Fatalf("run %d: %d", i, code)
		}
		ids = append(ids, task.ID)
	}
	// Kill it while tasks run: as soon as one has completed a step.
	waitFor(t, func() bool {
		var list struct{ Tasks []tasks.Task }
		api(t, "GET", url+"/api/v1/tasks?state=running", tok, nil, &list)
		for _, tk := range list.Tasks {
			if tk.Steps > 0 {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	url, _ = s.start(t)
	final := map[string]tasks.Task{}
	waitFor(t, func() bool {
		for _, id := range ids {
			var tk tasks.Task
			if code := api(t, "GET", url+"/api/v1/tasks/"+id, tok, nil, &tk); code != 200 {
				t.Fatalf("task %s after restart: %d", id, code)
			}
			if !tk.State.Final() {
				return false
			}
			final[id] = tk
		}
		return true
	})
	var list struct{ Tasks []tasks.Task }
	api(t, "GET", url+"/api/v1/tasks?limit=100", tok, nil, &list)
	if len(list.Tasks) != n {
		t.Fatalf("%d tasks listed after the restart, want %d", len(list.Tasks), n)
	}
	interrupted := 0
	for _, id := range ids {
		tk := final[id]
		evs := followSSE(t, url, tok, id)
		finished, started := 0, 0
		for _, ev := range evs {
			switch ev.Kind {
			case agent.EventFinished:
				finished++
			case tasks.EventStarted:
				started++
			}
		}
		switch tk.State {
		case tasks.StateInterrupted:
			interrupted++
			if tk.Reason != tasks.ReasonInterrupted || started != 1 {
				t.Errorf("task %s interrupted with reason %q after %d starts", id, tk.Reason, started)
			}
		case tasks.StateSucceeded:
			if started != 1 {
				t.Errorf("task %s succeeded after %d starts (ran twice?)", id, started)
			}
		default:
			t.Errorf("task %s ended %s (%s): %s", id, tk.State, tk.Reason, tk.Message)
		}
		if finished != 1 || evs[len(evs)-1].Kind != agent.EventFinished {
			t.Errorf("task %s has %d final events", id, finished)
		}
	}
	if interrupted == 0 {
		t.Fatal("no task was running when the server was killed")
	}
	t.Logf("%d of %d tasks interrupted by the kill, the rest ran after the restart", interrupted, n)
}

// TestRunServer: `cloudphone run --server` submits over HTTP, prints each
// step as it happens and exits 0 on success; without a token it fails
// with the server's 401 and a hint.
func TestRunServer(t *testing.T) {
	s := newTaskServer(t, "instant")
	url, _ := s.start(t)
	tok := s.token(t, "operator", "default")
	waitFor(t, func() bool { return api(t, "GET", url+"/readyz", "", nil, nil) == 200 })

	cmd := exec.Command(s.bin, "run", "--server", url, "打开设置然后打开飞行模式")
	cmd.Env = append(os.Environ(), "CLOUDPHONE_TOKEN="+tok)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), "step  1") || !strings.Contains(string(out), "succeeded after") ||
		!strings.Contains(string(out), "on device-sim/") {
		t.Fatalf("run --server: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	// --json: one event per line, the last one final.
	out, err = exec.Command(s.bin, "run", "--server", url, "--token", tok, "--json", "打开设置").Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var last tasks.Event
	if err != nil || json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil || last.State != tasks.StateSucceeded {
		t.Fatalf("run --server --json: %v\n%s", err, out)
	}
	// A task that does not succeed exits 1 with its state and reason.
	cmd = exec.Command(s.bin, "run", "--server", url, "--token", tok, "打开不存在的应用XYZ")
	stderr.Reset()
	cmd.Stderr = &stderr
	var ee *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "failed (task_failed)") {
		t.Fatalf("run --server of a task that fails: %v\n%s", err, stderr.String())
	}
	cmd = exec.Command(s.bin, "run", "--server", url, "打开设置")
	cmd.Env = append(os.Environ(), "CLOUDPHONE_TOKEN=")
	stderr.Reset()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "401 unauthorized") ||
		!strings.Contains(stderr.String(), "CLOUDPHONE_TOKEN") {
		t.Fatalf("run --server without a token: %v\n%s", err, stderr.String())
	}
}

// followSSE reads a task's whole event stream.
func followSSE(t *testing.T, url, token, id string) []tasks.Event {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/v1/tasks/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []tasks.Event
	for _, line := range strings.Split(string(body), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev tasks.Event
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			out = append(out, ev)
		}
	}
	return out
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 90s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
