// Package realadb runs Debian's real adb server for tests: an isolated
// server on its own port with its own HOME (and so its own adbkey), that
// never touches a user's server on 5037 and is killed when the test ends.
// It is what sdk/adb, the simulated phones and the adb device backend test
// against.
//
// What it is not: an adb client (sdk/adb is) or a fake; it drives the real
// binary.
package realadb

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
)

// Server is one isolated adb server.
type Server struct {
	Bin  string   // the adb binary
	Port int      // the server's port on 127.0.0.1
	Home string   // HOME of the server (its ~/.android lives here)
	Env  []string // environment adb runs with
}

// Options for Start.
type Options struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// Require fails the test when adb is not installed instead of
	// skipping it.
	Require bool
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts a server for this test and stops it in t.Cleanup. Without
// Debian's adb it skips the test (or fails it, with Options.Require).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("adb")
	if err != nil {
		const msg = "adb binary not found; `make deps` installs Debian's adb (platform-tools 29)"
		if o.Require {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if o.Port == 0 {
		o.Port = FreePort(t)
	}
	s := &Server{Bin: bin, Port: o.Port, Home: t.TempDir()}
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "ANDROID_SDK_HOME", "ANDROID_USER_HOME", "ADB_VENDOR_KEYS", "ANDROID_SERIAL", "ADB_SERVER_SOCKET":
			continue
		}
		s.Env = append(s.Env, kv)
	}
	s.Env = append(s.Env, "HOME="+s.Home)
	if out, code := s.Run(t, "start-server"); code != 0 {
		t.Fatalf("adb start-server: %d %s", code, out)
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Addr is the server's address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Client is an sdk/adb client of this server.
func (s *Server) Client() *adb.ServerClient { return &adb.ServerClient{Addr: s.Addr()} }

// Command returns an adb command against this server.
func (s *Server) Command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.Bin, append([]string{"-P", strconv.Itoa(s.Port)}, args...)...)
	cmd.Env = s.Env
	return cmd
}

// Run runs adb with args (30 s at most) and returns its combined output and
// exit code.
func (s *Server) Run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.Command(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("adb %v: %v", args, err)
	return "", -1
}

// Stop kills the server with kill-server and, should it still be running,
// the "adb -L tcp:PORT fork-server" process this test started (its port is
// unique to the test).
func (s *Server) Stop(t testing.TB) {
	_, _ = s.Run(t, "kill-server")
	for range 40 {
		c, err := net.DialTimeout("tcp", s.Addr(), 100*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	want := "-L\x00tcp:" + strconv.Itoa(s.Port) + "\x00fork-server"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(b), want) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if proc, err := os.FindProcess(pid); err == nil {
			_ = proc.Kill()
			t.Logf("adb server on port %d ignored kill-server; killed pid %d", s.Port, pid)
		}
	}
}
