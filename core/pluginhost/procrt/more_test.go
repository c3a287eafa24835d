package procrt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestModelInferStreams(t *testing.T) {
	p := load(t, testBin(t, "model"), Options{})
	ctx := ctxT(t, 10*time.Second)
	if resp, err := p.Load(ctx, &cpv1.LoadRequest{Model: "glm"}); err != nil || resp.GetMemoryMib() != 3 {
		t.Fatalf("load = %v, %v", resp, err)
	}
	req := &cpv1.InferRequest{Messages: []*cpv1.ChatMessage{{Role: "user", Content: []*cpv1.ContentPart{
		{Part: &cpv1.ContentPart_Text{Text: "tap the blue button"}},
	}}}}
	var text strings.Builder
	var last *cpv1.InferChunk
	err := p.Infer(ctx, req, func(c *cpv1.InferChunk) error {
		text.WriteString(c.GetDelta())
		last = c
		return nil
	})
	if err != nil || text.String() != "tap the blue button " || !last.GetDone() {
		t.Fatalf("infer: %q, last %v, err %v", text.String(), last, err)
	}

	stop := errors.New("enough")
	chunks := 0
	err = p.Infer(ctx, req, func(*cpv1.InferChunk) error {
		chunks++
		if chunks == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || chunks != 2 {
		t.Fatalf("infer stopped by emit: chunks %d, err %v", chunks, err)
	}
	if _, err := p.Unload(ctx, &cpv1.UnloadRequest{Model: "glm"}); err != nil {
		t.Fatalf("unload: %v", err)
	}
	if _, err := p.Plan(ctx, &cpv1.PlanRequest{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("plan on a model: err = %v, want ErrUnsupported", err)
	}
}

// stateErrs records OnStateChange calls with their errors.
type stateErrs struct {
	mu  sync.Mutex
	log []string
}

func (s *stateErrs) record(state string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		state += ": " + err.Error()
	}
	s.log = append(s.log, state)
}

func (s *stateErrs) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "; ")
}

func (s *stateErrs) has(prefix, substr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.log {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, substr) {
			return true
		}
	}
	return false
}

func TestRestartFailsUntilTheFileIsFixed(t *testing.T) {
	good := plannerBin(t)
	sum, err := fileSHA256(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "planner")
	install := func(src string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, ".tmp")
		if err := os.WriteFile(tmp, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	install(good)
	var states stateErrs
	p := load(t, path, Options{
		SHA256: sum, RestartBackoffMin: 20 * time.Millisecond, RestartBackoffMax: 100 * time.Millisecond,
		OnStateChange: states.record,
	})

	install(testBin(t, "notplugin"))
	old := p.Pid()
	killPid(old)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if !states.has(StateCrashed, "sha256 mismatch") {
			return fmt.Errorf("no failed restart reported yet: %s", states.String())
		}
		return nil
	})
	// Calls wait for the restart, bounded by their context.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = p.Plan(ctx, &cpv1.PlanRequest{Instruction: "waits"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("plan while restarts fail: err = %v, want a deadline while waiting for the restart", err)
	}

	install(good)
	resp, err := p.Plan(ctxT(t, 10*time.Second), &cpv1.PlanRequest{Instruction: "back"})
	if err != nil || !strings.HasSuffix(resp.GetFinish().GetMessage(), ": back") {
		t.Fatalf("plan after the file was fixed: %v, %v", resp, err)
	}
	if p.Pid() == old || p.State() != StateReady {
		t.Fatalf("pid %d (was %d), state %s", p.Pid(), old, p.State())
	}
}

func TestHclogAdapterLevels(t *testing.T) {
	var buf strings.Builder
	h := newHclog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if h.GetLevel() != hclog.Info || h.IsDebug() || h.IsTrace() || !h.IsInfo() {
		t.Fatalf("level %v: an Info handler must not enable trace or debug", h.GetLevel())
	}
	h.Trace("trace line")
	h.Debug("debug line")
	h.Named("x").With("k", "v").Warn("warn line", "plugin", "/bin/p", "timestamp", "t")
	out := buf.String()
	if strings.Contains(out, "trace line") || strings.Contains(out, "debug line") {
		t.Fatalf("below-info lines were logged: %s", out)
	}
	for _, want := range []string{"level=WARN", `msg="warn line"`, "k=v", "plugin_cmd=/bin/p"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %s", want, out)
		}
	}
	if strings.Contains(out, "timestamp=") {
		t.Errorf("the plugin's timestamp was kept: %s", out)
	}
}

func TestLineLoggerAndTail(t *testing.T) {
	var buf strings.Builder
	w := &lineLogger{log: slog.New(slog.NewTextHandler(&buf, nil)), stream: "stdout"}
	_, _ = io.WriteString(w, "par")
	_, _ = io.WriteString(w, "tial\r\nsecond\n")
	if got := strings.Count(buf.String(), "plugin output"); got != 2 ||
		!strings.Contains(buf.String(), `line=partial`) {
		t.Fatalf("logged %d lines: %s", got, buf.String())
	}

	var tail tailBuffer
	for i := range 12 {
		fmt.Fprintf(&tail, "line %d\n", i)
	}
	fmt.Fprintln(&tail, `{"@level":"error","@message":"cannot open device","error":"no adb"}`)
	s := tail.String()
	if strings.Contains(s, "line 4") || !strings.Contains(s, "line 11") ||
		!strings.Contains(s, "error: cannot open device (no adb)") {
		t.Fatalf("tail = %q", s)
	}
}

func TestCloseKillsAWedgedProcess(t *testing.T) {
	p, err := Load(ctxT(t, 30*time.Second), plannerBin(t), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if took := time.Since(began); took > killGrace+2*time.Second {
		t.Fatalf("close took %v", took)
	}
	checkFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if !processGone(pid) {
			return fmt.Errorf("stopped plugin pid %d survives Close", pid)
		}
		return nil
	})
}
