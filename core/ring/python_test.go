package ring

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const pythonConsumer = "../../examples/ring-consumer-python/consumer.py"

// TestPythonConsumer: examples/ring-consumer-python, written from
// docs/ring.md alone, consumes a Go-owned ring: concurrent Calls get
// sha256 digests of their payloads, a malformed descriptor comes back
// StatusMalformed, and the consumer exits when the owner closes the ring.
func TestPythonConsumer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the Python ring consumer example cannot run (install python3 to run this test)")
	}
	for _, wait := range []string{"poll", "sleep"} {
		t.Run(wait, func(t *testing.T) {
			path := shmPath(t)
			r, err := Create(path, Options{Entries: 32, ArenaBytes: 32 * 2 * 256, Wait: WaitAdaptive, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			t.Cleanup(func() {
				if !closed {
					r.Close()
				}
			})
			cmd := exec.Command(py, pythonConsumer, "--ring", path, "--op", "sha256", "--wait", wait)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			if strings.TrimSpace(line) != "ready" {
				t.Fatalf("consumer.py did not start: %q\n%s", line, stderr.String())
			}

			var wg sync.WaitGroup
			for p := 0; p < 4; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						id := uint64(p*100 + i)
						payload := []byte(fmt.Sprintf("payload %d of producer %d", i, p))
						c, err := r.Call(context.Background(), Command{ID: id, Payload: payload})
						if err != nil || c.ID != id || !bytes.Equal(c.Result, sha(payload)) {
							t.Errorf("call %d: %+v %v", id, c, err)
							return
						}
					}
				}()
			}
			wg.Wait()

			c, err := submitRaw(t, r, 999, []byte("x"), func(s []byte) { binary.LittleEndian.PutUint32(s[dFlags:], 1<<7) })
			if !errors.Is(err, ErrMalformed) || !strings.Contains(string(c.Result), "unknown flags") {
				t.Fatalf("malformed descriptor through Python: %+v %v", c, err)
			}

			closed = true
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				exited <- err
				if err != nil {
					t.Fatalf("consumer.py: %v\n%s", err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("consumer.py did not exit after the ring closed")
			}
		})
	}
}
