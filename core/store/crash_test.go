package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain runs the crash child instead of the tests when STORE_CHILD
// names a store directory.
func TestMain(m *testing.M) {
	if dir := os.Getenv("STORE_CHILD"); dir != "" {
		os.Exit(crashChild(dir, os.Getenv("STORE_CHILD_PREFIX")))
	}
	os.Exit(m.Run())
}

// crashChild opens the store and, from 4 goroutines until it is killed,
// creates tasks, starts them, appends step events with screenshots and
// finishes every other one. Before each state change it prints an intent
// line, after each acknowledged write an ack line:
//
//	C id        created
//	S id        about to start       R id    started (running)
//	E id step   step event stored
//	F id        about to finish      D id    succeeded
//	A seq       audit row appended (by a fifth goroutine)
func crashChild(dir, prefix string) int {
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...) // one write(2) per line
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	stop := time.After(30 * time.Second) // killed long before
	go func() {
		for i := 0; ; i++ {
			e, err := s.AppendAudit(ctx, AuditEntry{Actor: "crash", Action: "task.submit", Target: fmt.Sprint(i), Result: "ok"})
			if err != nil {
				fail(err)
			}
			say("A %d", e.Seq)
		}
	}()
	for g := range 4 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-%d-%d", prefix, g, i)
				if _, _, err := s.CreateTask(ctx, Task{ID: id, Instruction: "crash test " + id}); err != nil {
					fail(err)
				}
				say("C %s", id)
				if i%3 == 2 {
					continue // stays queued
				}
				say("S %s", id)
				if _, err := s.UpdateState(ctx, id, StateQueued, StateRunning); err != nil {
					fail(err)
				}
				say("R %s", id)
				for step := 1; step <= 3; step++ {
					png := fmt.Appendf(nil, "\x89PNG %s step %d", id, step)
					if step == 3 {
						png = []byte("\x89PNG the home screen") // shared by many events
					}
					body := fmt.Appendf(nil, `{"task_id":%q,"step":%d}`, id, step)
					if _, err := s.AppendEvent(ctx, Event{TaskID: id, Kind: KindStep, Step: step, Body: body, Screenshot: png}); err != nil {
						fail(err)
					}
					say("E %s %d", id, step)
				}
				if i%2 == 0 {
					say("F %s", id)
					if _, err := s.UpdateState(ctx, id, StateRunning, StateSucceeded); err != nil {
						fail(err)
					}
					say("D %s", id)
				}
			}
		}()
	}
	<-stop
	return 0
}

// childLog is what the parent learned from the child's lines.
type childLog struct {
	lines   int
	created map[string]bool
	intent  map[string]string // last intent: "S" or "F"
	acked   map[string]string // last state ack: "R" or "D"
	steps   map[string]int    // highest acked step event
	audit   int64             // highest acked audit seq
}

func newChildLog() *childLog {
	return &childLog{created: map[string]bool{}, intent: map[string]string{}, acked: map[string]string{}, steps: map[string]int{}}
}

func (l *childLog) add(line string) error {
	f := strings.Fields(line)
	if len(f) < 2 {
		return fmt.Errorf("bad child line %q", line)
	}
	l.lines++
	switch f[0] {
	case "C":
		l.created[f[1]] = true
	case "S", "F":
		l.intent[f[1]] = f[0]
	case "R", "D":
		l.acked[f[1]] = f[0]
	case "A":
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return fmt.Errorf("bad child line %q", line)
		}
		l.audit = max(l.audit, n)
	case "E":
		if len(f) < 3 {
			return fmt.Errorf("bad child line %q", line)
		}
		n, err := strconv.Atoi(f[2])
		if err != nil {
			return fmt.Errorf("bad child line %q", line)
		}
		l.steps[f[1]] = max(l.steps[f[1]], n)
	default:
		return fmt.Errorf("bad child line %q", line)
	}
	return nil
}

// runAndKill starts the crash child on dir, lets it write until it has
// written wantLines lines (or for 15 s on a slow machine, at least 100),
// kills it with SIGKILL mid-write and returns its log.
func runAndKill(t *testing.T, dir, prefix string, wantLines int) *childLog {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STORE_CHILD="+dir, "STORE_CHILD_PREFIX="+prefix)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	log := newChildLog()
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(15 * time.Second)
	for log.lines < wantLines && time.Now().Before(deadline) && sc.Scan() {
		if err := log.add(sc.Text()); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // lines written before the kill
		if err := log.add(sc.Text()); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	killed = true
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL (%v): stderr %s", err, stderr.String())
	}
	if log.lines < 100 {
		t.Fatalf("child wrote only %d lines: stderr %s", log.lines, stderr.String())
	}
	return log
}

// TestCrashKill9 kills a writing process with SIGKILL twice and checks,
// after each reopen, that the database is intact, every acknowledged write
// is present, and Recover returns exactly the tasks left queued and left
// running with their last completed step.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	ctx := context.Background()
	for round, lines := range []int{600, 1500} {
		prefix := fmt.Sprintf("r%d", round)
		log := runAndKill(t, dir, prefix, lines)
		s := openTest(t, Options{Dir: dir})
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("round %d: audit chain after kill -9: %v", round, err)
		}
		if rows, _, err := s.ListAudit(ctx, AuditFilter{Limit: 1}); err != nil || len(rows) == 0 || rows[0].Seq < log.audit {
			t.Fatalf("round %d: audit rows %+v (%v), %d acknowledged", round, rows, err, log.audit)
		}
		r, err := s.Recover(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		queued, unfinished := map[string]bool{}, map[string]Unfinished{}
		for _, tk := range r.Queued {
			queued[tk.ID] = true
		}
		for _, u := range r.Unfinished {
			unfinished[u.Task.ID] = u
		}
		for id := range log.created {
			tk, err := s.Task(ctx, id)
			if err != nil {
				t.Fatalf("round %d: acknowledged task %s: %v", round, id, err)
			}
			evs, err := s.Events(ctx, id, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) < log.steps[id] {
				t.Errorf("task %s: %d events stored, %d acknowledged", id, len(evs), log.steps[id])
			}
			for _, ev := range evs {
				if _, err := s.Screenshot(ctx, ev.ScreenshotSHA256); err != nil {
					t.Errorf("task %s event %d: %v", id, ev.Seq, err)
				}
			}
			// The state the log allows: acked, or the intent in flight.
			var allowed []State
			switch {
			case log.acked[id] == "D":
				allowed = []State{StateSucceeded}
			case log.intent[id] == "F":
				allowed = []State{StateRunning, StateSucceeded}
			case log.acked[id] == "R":
				allowed = []State{StateRunning}
			case log.intent[id] == "S":
				allowed = []State{StateQueued, StateRunning}
			default:
				allowed = []State{StateQueued}
			}
			if !stateIn(tk.State, allowed) {
				t.Errorf("task %s is %s, the child's log allows %v", id, tk.State, allowed)
			}
			if (tk.State == StateQueued) != queued[id] {
				t.Errorf("task %s (%s): in Recover's queued list: %v", id, tk.State, queued[id])
			}
			u, isUnfinished := unfinished[id]
			if (tk.State == StateRunning) != isUnfinished {
				t.Errorf("task %s (%s): in Recover's unfinished list: %v", id, tk.State, isUnfinished)
			}
			if isUnfinished && u.LastStep < log.steps[id] {
				t.Errorf("task %s: last step %d, %d acknowledged", id, u.LastStep, log.steps[id])
			}
		}
		if len(r.Queued)+len(r.Unfinished) == 0 {
			t.Errorf("round %d: nothing to recover; the kill came too late to test anything", round)
		}
		for id := range unfinished {
			if _, err := s.MarkInterrupted(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if r, _ := s.Recover(ctx, ""); len(r.Unfinished) != 0 {
			t.Errorf("after interrupting: %d unfinished", len(r.Unfinished))
		}
		t.Logf("round %d: %d lines, %d tasks and %d audit rows acknowledged, recovered %d queued, %d running",
			round, log.lines, len(log.created), log.audit, len(queued), len(unfinished))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
