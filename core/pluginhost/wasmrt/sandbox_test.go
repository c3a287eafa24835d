package wasmrt

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInfiniteLoopStoppedByDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	r := newTestRuntime(t, Options{CallTimeout: timeout})
	m := loadTest(t, r, loopDir, "")
	ctx := context.Background()

	start := time.Now()
	_, err := m.Plan(ctx, screenReq("loop", 1))
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Plan(loop) = %v, want ErrTimeout", err)
	}
	if took < timeout || took > timeout+2*time.Second {
		t.Errorf("Plan(loop) took %v with a %v deadline", took, timeout)
	}
	resp, err := m.Plan(ctx, screenReq("finish", 1))
	if err != nil || resp.GetFinish() == nil {
		t.Fatalf("Plan after the timeout = %v, %v", resp, err)
	}
	if st := m.Stats(); st.TimedOut != 1 || st.Trapped != 1 || st.Instances != 1 {
		t.Errorf("Stats = %+v, want 1 timed out, 1 live instance", st)
	}

	// A runaway call must not stall the Go runtime: a stop-the-world
	// garbage collection completes while the guest loops.
	done := make(chan error, 1)
	go func() {
		_, err := m.Plan(ctx, screenReq("loop", 1))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	gcStart := time.Now()
	runtime.GC()
	if d := time.Since(gcStart); d > timeout/2 {
		t.Errorf("runtime.GC took %v while a guest looped", d)
	}
	if err := <-done; !errors.Is(err, ErrTimeout) {
		t.Fatalf("Plan(loop) = %v, want ErrTimeout", err)
	}

	// The caller's own context stops a call too, and is what is reported.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := m.Plan(cctx, screenReq("loop", 1)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Plan(loop) with a caller deadline = %v", err)
	}
	if _, err := m.Plan(ctx, screenReq("finish", 1)); err != nil {
		t.Fatalf("Plan after the caller's deadline: %v", err)
	}
}

// TestRecursionStoppedByDeadline: a computation that calls functions
// without end, but loops in none, is stopped too.
func TestRecursionStoppedByDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	r := newTestRuntime(t, Options{CallTimeout: timeout})
	m := loadTest(t, r, loopDir, "")
	ctx := context.Background()
	start := time.Now()
	if _, err := m.Plan(ctx, screenReq("recurse", 1)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Plan(recurse) = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > timeout+2*time.Second {
		t.Errorf("Plan(recurse) took %v with a %v deadline", took, timeout)
	}
	if _, err := m.Plan(ctx, screenReq("finish", 1)); err != nil {
		t.Fatalf("Plan after the timeout: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	// A generous deadline: growing memory copies it, which is slow under
	// the race detector.
	r := newTestRuntime(t, Options{MemoryLimitMiB: 48, CallTimeout: 20 * time.Second})
	m := loadTest(t, r, oomDir, "")
	ctx := context.Background()
	_, err := m.Plan(ctx, screenReq("alloc", 1))
	if !errors.Is(err, ErrTrapped) || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("Plan(alloc) = %v, want ErrTrapped naming out of memory", err)
	}
	resp, err := m.Plan(ctx, screenReq("finish", 1))
	if err != nil || resp.GetFinish() == nil {
		t.Fatalf("Plan after out of memory = %v, %v", resp, err)
	}
	if st := m.Stats(); st.Trapped != 1 || st.Instances != 1 || st.MaxMemoryBytes > 48<<20 {
		t.Errorf("Stats = %+v", st)
	}
}

// logBuffer is a slog handler target that tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSandbox(t *testing.T) {
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newTestRuntime(t, Options{Logger: log})
	m := loadTest(t, r, sandboxDir, "")
	ctx := context.Background()

	tests := []struct {
		instruction string
		// wantErr is a substring of the guest error; empty means success.
		wantErr string
		check   func(t *testing.T, thinking string)
	}{
		{instruction: "open", wantErr: "open failed"},
		{instruction: "dial", wantErr: "dial failed"},
		{instruction: "env", check: func(t *testing.T, s string) {
			if s != "" {
				t.Errorf("environment = %q, want none", s)
			}
		}},
		{instruction: "args", check: func(t *testing.T, s string) {
			if s != "" {
				t.Errorf("args = %q, want none", s)
			}
		}},
		{instruction: "time", check: func(t *testing.T, s string) {
			// wazero's fake wall clock starts at 2022-01-01.
			if !strings.HasPrefix(s, "2022-01-01") {
				t.Errorf("guest wall clock = %q, want the fake 2022-01-01", s)
			}
		}},
		{instruction: "print", check: func(t *testing.T, s string) {
			out := logs.String()
			if !strings.Contains(out, "hello on stdout") || !strings.Contains(out, "hello on stderr") {
				t.Errorf("guest output not logged; log:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.instruction, func(t *testing.T) {
			resp, err := m.Plan(ctx, screenReq(tt.instruction, 1))
			if tt.wantErr != "" {
				var ge *GuestError
				if !errors.As(err, &ge) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Plan(%s) = %v, %v; want a guest error containing %q", tt.instruction, resp, err, tt.wantErr)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Plan(%s): %v", tt.instruction, err)
			}
			tt.check(t, resp.GetThinking())
		})
	}
	if st := m.Stats(); st.Trapped != 0 {
		t.Errorf("Stats = %+v, want nothing trapped", st)
	}
}

func TestRandomIsDeterministic(t *testing.T) {
	ctx := context.Background()
	var got []string
	for range 2 {
		r := newTestRuntime(t, Options{})
		m := loadTest(t, r, sandboxDir, "")
		resp, err := m.Plan(ctx, screenReq("rand", 1))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetThinking())
	}
	if got[0] == "" || got[0] != got[1] {
		t.Fatalf("random bytes of two fresh runtimes = %q, want the same deterministic value", got)
	}
}
