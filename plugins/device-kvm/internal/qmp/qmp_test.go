package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeQEMU serves one QMP connection on a unix socket: the greeting, then
// replies from reply (nil closes the connection), with an event before
// every reply.
func fakeQEMU(t *testing.T, reply func(cmd string, args json.RawMessage) any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qmp.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		enc := json.NewEncoder(c)
		_ = enc.Encode(map[string]any{"QMP": map[string]any{
			"version":      map[string]any{"qemu": map[string]int{"major": 7, "minor": 2, "micro": 18}, "package": "Debian"},
			"capabilities": []string{"oob"},
		}})
		sc := bufio.NewScanner(c)
		negotiated := false
		for sc.Scan() {
			var req struct {
				Execute   string          `json:"execute"`
				Arguments json.RawMessage `json:"arguments"`
				ID        string          `json:"id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
				return
			}
			if !negotiated {
				if req.Execute != "qmp_capabilities" {
					_ = enc.Encode(map[string]any{"error": map[string]string{"class": "CommandNotFound", "desc": "negotiate first"}, "id": req.ID})
					continue
				}
				negotiated = true
				_ = enc.Encode(map[string]any{"return": map[string]any{}, "id": req.ID})
				continue
			}
			_ = enc.Encode(map[string]any{"event": "RTC_CHANGE", "data": map[string]int{"offset": 0}})
			r := reply(req.Execute, req.Arguments)
			if r == nil {
				return
			}
			if e, ok := r.(error); ok {
				_ = enc.Encode(map[string]any{"error": map[string]string{"class": "GenericError", "desc": e.Error()}, "id": req.ID})
				continue
			}
			_ = enc.Encode(map[string]any{"return": r, "id": req.ID})
		}
	}()
	return path
}

func TestClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	path := fakeQEMU(t, func(cmd string, args json.RawMessage) any {
		switch cmd {
		case "query-status":
			return map[string]any{"running": true, "status": "running", "singlestep": false}
		case "human-monitor-command":
			var a map[string]string
			_ = json.Unmarshal(args, &a)
			if a["command-line"] == "loadvm missing" {
				return "Error: Snapshot 'missing' does not exist in one or more devices\r\n"
			}
			return ""
		case "quit":
			return nil // QEMU closes the socket as it exits
		}
		return errors.New("The command " + cmd + " has not been found")
	})
	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := c.Version(); v.String() != "7.2.18" || v.Package != "Debian" {
		t.Errorf("version %+v", v)
	}
	st, err := c.QueryStatus(ctx)
	if err != nil || !st.Running || st.Status != "running" {
		t.Fatalf("QueryStatus: %+v, %v", st, err)
	}
	if c.LastEvent() != "RTC_CHANGE" {
		t.Errorf("last event %q, want the skipped RTC_CHANGE", c.LastEvent())
	}
	out, err := c.HumanMonitorCommand(ctx, "loadvm missing")
	if err != nil || !strings.Contains(out, "does not exist") {
		t.Errorf("HumanMonitorCommand: %q, %v", out, err)
	}
	var qe *Error
	if _, err := c.Execute(ctx, "bogus", nil); !errors.As(err, &qe) || qe.Class != "GenericError" {
		t.Errorf("Execute(bogus): %v, want an *Error", err)
	}
	if err := c.Quit(ctx); err != nil {
		t.Errorf("Quit: %v", err)
	}
	if _, err := c.QueryStatus(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("after quit: %v, want ErrClosed", err)
	}
}

func TestDialNotQMP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("{\"hello\": 1}\n"))
			time.Sleep(time.Second)
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Dial(ctx, path); err == nil || !strings.Contains(err.Error(), "greeting") {
		t.Fatalf("Dial of a non-QMP socket: %v", err)
	}
}

func TestDialSilentHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Dial(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial of a silent socket: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Dial took %s after its deadline", d)
	}
}
