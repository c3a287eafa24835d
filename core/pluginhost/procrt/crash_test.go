package procrt

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// stateLog records OnStateChange calls.
type stateLog struct {
	mu     sync.Mutex
	states []string
}

func (l *stateLog) record(state string, _ error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, state)
}

func (l *stateLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.states...)
}

func TestKilledChildIsRestarted(t *testing.T) {
	var log stateLog
	p := load(t, plannerBin(t), Options{OnStateChange: log.record})
	ctx := ctxT(t, 30*time.Second)
	if err := p.Configure(ctx, []byte(`{"device":"d1"}`)); err != nil {
		t.Fatal(err)
	}

	for round := range 2 {
		old := p.Pid()
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// A call made right away waits for the new process (or is retried on
		// it) instead of failing.
		resp, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: fmt.Sprint("after kill ", round)})
		if err != nil {
			t.Fatalf("round %d: plan right after SIGKILL: %v", round, err)
		}
		if resp.GetThinking() != `config={"device":"d1"}` {
			t.Fatalf("round %d: configuration not re-applied: thinking %q", round, resp.GetThinking())
		}
		checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if pid := p.Pid(); pid == 0 || pid == old || p.State() != StateReady {
				return fmt.Errorf("pid %d (was %d), state %s", pid, old, p.State())
			}
			return nil
		})
		if !processGone(old) {
			t.Fatalf("old pid %d still runs", old)
		}
	}
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		want := "crashed restarting ready crashed restarting ready"
		if got := strings.Join(log.get(), " "); got != want {
			return fmt.Errorf("states %q, want %q", got, want)
		}
		return nil
	})
}

func TestCrashDuringCall(t *testing.T) {
	p := load(t, plannerBin(t), Options{})
	ctx := ctxT(t, 30*time.Second)
	// Plan is safe to repeat, so it is retried once on the new process,
	// which crashes again: the caller learns that the plugin crashed.
	_, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "crash"})
	if !errors.Is(err, ErrCrashed) {
		t.Fatalf("plan: err = %v, want ErrCrashed", err)
	}
	resp, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "fine"})
	if err != nil || !strings.HasSuffix(resp.GetFinish().GetMessage(), ": fine") {
		t.Fatalf("plan after crashes: %v, %v", resp, err)
	}
}

func TestHostKilledLeavesNoPlugin(t *testing.T) {
	bin := plannerBin(t)
	for _, tc := range []struct{ name, pdeathsig string }{
		{"pdeathsig", "on"},
		{"sdk parent watch", "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := exec.Command(os.Args[0], "-test.run=^$")
			host.Env = append(os.Environ(), envHostPlugin+"="+bin, envHostPdeathsig+"="+tc.pdeathsig)
			host.Stderr = tWriter{t}
			out, err := host.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := host.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = host.Process.Kill()
				_ = host.Wait()
			})
			pidc := make(chan int, 1)
			errc := make(chan error, 1)
			go func() {
				pid, err := readPid(out)
				if err != nil {
					errc <- err
					return
				}
				pidc <- pid
			}()
			var pid int
			select {
			case pid = <-pidc:
			case err := <-errc:
				t.Fatalf("child host: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("child host printed no plugin pid")
			}
			if processGone(pid) {
				t.Fatalf("plugin pid %d is not running before the host is killed", pid)
			}
			t.Cleanup(func() {
				if !processGone(pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if err := host.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = host.Wait()
			began := time.Now()
			checkFor(t, 2*time.Second, 10*time.Millisecond, func() error {
				if !processGone(pid) {
					return fmt.Errorf("plugin pid %d outlives its killed host", pid)
				}
				return nil
			})
			t.Logf("plugin gone %v after the host", time.Since(began).Round(time.Millisecond))
		})
	}
}
