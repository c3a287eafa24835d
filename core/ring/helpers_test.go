package ring

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// shmPath is a fresh file name under /dev/shm, removed by cleanup.
func shmPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/dev/shm"); err != nil {
		t.Skipf("no /dev/shm: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	p := filepath.Join("/dev/shm", fmt.Sprintf("cloudphone-ring-test-%d-%s", os.Getpid(), hex.EncodeToString(b[:])))
	t.Cleanup(func() { os.Remove(p) })
	return p
}

// upper is the reference answer of every test consumer.
func upper(b []byte) []byte { return bytes.ToUpper(b) }

// serve runs an in-process consumer until the test ends: it fetches in
// batches of batch and answers each command with handle.
func serve(t testing.TB, r *Ring, batch int, handle func(Command) Completion) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmds := make([]Command, batch)
		comps := make([]Completion, 0, batch)
		for {
			n, err := r.Fetch(ctx, cmds)
			if err != nil {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
					t.Errorf("fetch: %v", err)
				}
				return
			}
			comps = comps[:0]
			for _, c := range cmds[:n] {
				comps = append(comps, handle(c))
			}
			if err := r.Complete(comps...); err != nil {
				t.Errorf("complete: %v", err)
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func upperHandler(c Command) Completion { return c.Reply(StatusOK, upper(c.Payload)) }

// worker is a ringworker child process.
type worker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan error
}

// startWorker builds and starts internal/ringworker with args and waits
// for its "ready" line. Cleanup stops it.
func startWorker(t testing.TB, args ...string) *worker {
	t.Helper()
	bin := pluginbuild.GoBinary(t, "./internal/ringworker", "")
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ringworker: %v", err)
	}
	w := &worker{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, stdout)
		w.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("ringworker stderr:\n%s", stderr.String())
		}
	})
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			cmd.Process.Kill()
			t.Fatalf("ringworker %v did not start: %q", args, line)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ringworker %v: no ready line in 20s", args)
	}
	return w
}

// kill SIGKILLs the worker and waits for it to be reaped.
func (w *worker) kill(t testing.TB) {
	t.Helper()
	w.cmd.Process.Kill()
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		t.Fatal("killed ringworker did not exit")
	}
	w.done <- nil // for cleanup
}

// waitFor polls cond every 5ms until it holds or 10s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
