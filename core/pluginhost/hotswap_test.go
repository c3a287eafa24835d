package pluginhost_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// swapCase describes one transport's plugin files for the hot-swap test.
type swapCase struct {
	name     string
	file     string // name in the plugin dir
	plugin   string // plugin name
	build    func(t *testing.T, version string) string
	bad      map[string]string // label → path of a file that must be rejected
	wantBad  map[string]string // label → substring of the rejection
	reply    func(version string) string
	instruct string
}

func wasmCase(t *testing.T) swapCase {
	build := func(t *testing.T, v string) string {
		return pluginbuild.BuildWasm(t, "../../examples/planner-hello", "-X main.version="+v)
	}
	good := build(t, "1.0.0")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "trunc.wasm")
	if err := os.WriteFile(trunc, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	return swapCase{
		name: "wasm", file: "planner-hello.wasm", plugin: "planner-hello", build: build, instruct: "hello",
		bad: map[string]string{
			"truncated":      trunc,
			"wrong contract": pluginbuild.BuildWasm(t, "../pluginhost/wasmrt/testdata/contract2", ""),
		},
		wantBad: map[string]string{"truncated": "compile planner-hello.wasm", "wrong contract": "contract"},
		reply:   func(v string) string { return "hello from planner-hello " + v },
	}
}

func processCase(t *testing.T) swapCase {
	build := func(t *testing.T, v string) string {
		return pluginbuild.GoBinary(t, "./procrt/testdata/planner", "-X main.name=planner-proc -X main.version="+v)
	}
	return swapCase{
		name: "process", file: "planner-proc", plugin: "planner-proc", build: build, instruct: "go",
		bad: map[string]string{
			"not a plugin":   pluginbuild.GoBinary(t, "./procrt/testdata/notplugin", ""),
			"wrong contract": pluginbuild.GoBinary(t, "./procrt/testdata/wrongproto", ""),
		},
		wantBad: map[string]string{"not a plugin": "not a cloudphone plugin", "wrong contract": "contract"},
		reply:   func(v string) string { return "planner-proc " + v + ": go" },
	}
}

// copyFile writes src over dst in place, as cp does.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// publish writes src to a temp name and renames it over dst.
func publish(t *testing.T, src, dst string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp")
	copyFile(t, src, tmp)
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

func newHost(t *testing.T) (*pluginhost.Host, string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{CacheDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log})})
	w, err := h.Watch(context.Background(), pluginhost.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Close()
		h.Close(context.Background())
		rt.Close(context.Background())
	})
	return h, dir
}

// TestHotSwapUnderLoad replaces a planner by cp and by rename while
// goroutines call it continuously, feeds it bad files, then deletes it:
// no call may fail until the delete.
func TestHotSwapUnderLoad(t *testing.T) {
	for _, mk := range []func(*testing.T) swapCase{wasmCase, processCase} {
		c := mk(t)
		t.Run(c.name, func(t *testing.T) {
			h, dir := newHost(t)
			dst := filepath.Join(dir, c.file)
			v1, v2, v3 := c.build(t, "1.0.0"), c.build(t, "2.0.0"), c.build(t, "3.0.0")
			publish(t, v1, dst)
			waitReply(t, h, c, "1.0.0")

			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var ok, failed atomic.Int64
			var firstErr atomic.Value
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						_, err := h.Plan(context.Background(), c.plugin, &cpv1.PlanRequest{Instruction: c.instruct})
						if err != nil {
							failed.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
							continue
						}
						ok.Add(1)
					}
				}()
			}
			stopLoad := func() {
				stop()
				wg.Wait()
			}
			defer stopLoad()

			copyFile(t, v2, dst) // like `cp v2 plugins.d/NAME`
			waitReply(t, h, c, "2.0.0")
			publish(t, v3, dst) // write to a temp name, rename into place
			waitReply(t, h, c, "3.0.0")

			for label, bad := range c.bad {
				publish(t, bad, dst)
				sum := fileSHA(t, bad)
				waitFor(t, 60*time.Second, func() bool { _, s := rejected(h, dst); return s == sum })
				if got, _ := rejected(h, dst); !strings.Contains(got, c.wantBad[label]) {
					t.Errorf("%s: rejection %q, want it to mention %q", label, got, c.wantBad[label])
				}
				if r := plan(t, h, c); r != c.reply("3.0.0") {
					t.Errorf("%s: old version stopped serving: %q", label, r)
				}
			}
			before := ok.Load()
			waitFor(t, 10*time.Second, func() bool { return ok.Load() > before+50 })
			stopLoad()
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d of %d calls failed during swaps; first: %v", n, n+ok.Load(), firstErr.Load())
			}
			t.Logf("%s: %d calls, 0 failed, across 2 swaps and %d rejected files", c.name, ok.Load(), len(c.bad))
			for _, ev := range h.Status()[0].History {
				if ev.Action == pluginhost.ActionSwapped || ev.Action == pluginhost.ActionLoaded {
					t.Logf("%s %s → %s: validate+swap took %s", ev.Action, ev.Previous, ev.Version, ev.Duration)
				}
			}

			os.Remove(dst)
			waitFor(t, 10*time.Second, func() bool { return len(h.Status()) == 0 })
			if _, err := h.Plan(context.Background(), c.plugin, &cpv1.PlanRequest{}); err == nil {
				t.Fatal("plan after delete succeeded")
			}
		})
	}
}

func plan(t *testing.T, h *pluginhost.Host, c swapCase) string {
	t.Helper()
	resp, err := h.Plan(context.Background(), c.plugin, &cpv1.PlanRequest{Instruction: c.instruct})
	if err != nil {
		return "error: " + err.Error()
	}
	return resp.GetFinish().GetMessage()
}

func waitReply(t *testing.T, h *pluginhost.Host, c swapCase, version string) {
	t.Helper()
	want := c.reply(version)
	waitFor(t, 60*time.Second, func() bool { return plan(t, h, c) == want })
}

// rejected returns the error and hash of the rejected row for file, if any.
func rejected(h *pluginhost.Host, file string) (string, string) {
	for _, s := range h.Status() {
		if s.File == file && s.State == pluginhost.StateRejected {
			return s.Error, s.SHA256
		}
	}
	return "", ""
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
