package fleet

import (
	"bytes"
	"context"
	"log/slog"
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

// quiet is a logger for tests: warnings and errors only.
var quiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// startFleet starts n phones on system-picked 127.0.0.1 ports and stops
// them when the test ends.
func startFleet(t testing.TB, n int, mod ...func(*Options)) *Fleet {
	t.Helper()
	o := Options{Count: n, Listen: "127.0.0.1:0", Logger: quiet}
	for _, m := range mod {
		m(&o)
	}
	f, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// adbServer is an isolated adb server (own port, own HOME and key) that
// never touches a user's server on 5037. It follows sdk/adb's
// realadb_test.go, whose helper is not exported.
type adbServer struct {
	bin  string
	port int
	home string
	env  []string
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// startADB starts an adb server for this test, or skips the test when
// Debian's adb is not installed.
func startADB(t testing.TB) *adbServer {
	t.Helper()
	bin, err := exec.LookPath("adb")
	if err != nil {
		t.Skip("adb binary not found; `make deps` installs Debian's adb (platform-tools 29)")
	}
	s := &adbServer{bin: bin, port: freePort(t), home: t.TempDir()}
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "ANDROID_SDK_HOME", "ANDROID_USER_HOME", "ADB_VENDOR_KEYS", "ANDROID_SERIAL", "ADB_SERVER_SOCKET":
			continue
		}
		s.env = append(s.env, kv)
	}
	s.env = append(s.env, "HOME="+s.home)
	if out, code := s.run(t, "start-server"); code != 0 {
		t.Fatalf("adb start-server: %d %s", code, out)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop kills the server with kill-server and, should it still be running,
// the "adb -L tcp:PORT fork-server" process this test started.
func (s *adbServer) stop(t testing.TB) {
	_, _ = s.run(t, "kill-server")
	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	for range 40 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		_ = c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	want := "-L\x00tcp:" + strconv.Itoa(s.port) + "\x00fork-server"
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
			t.Logf("adb server on port %d ignored kill-server; killed pid %d", s.port, pid)
		}
	}
}

// command returns an adb command against this server.
func (s *adbServer) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"-P", strconv.Itoa(s.port)}, args...)...)
	cmd.Env = s.env
	return cmd
}

// run runs adb with args and returns its combined output and exit code.
func (s *adbServer) run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.command(ctx, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("adb %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), code
}

// output runs adb and returns its stdout only, failing on a non-zero exit.
func (s *adbServer) output(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("adb %v: %v: %s", args, err, stderr.String())
	}
	return out
}

func (s *adbServer) client() *adb.ServerClient {
	return &adb.ServerClient{Addr: "127.0.0.1:" + strconv.Itoa(s.port)}
}

// connect runs `adb connect serial` and waits until `adb devices` lists it
// as a device.
func (s *adbServer) connect(t testing.TB, serial string) {
	t.Helper()
	out, _ := s.run(t, "connect", serial)
	// adb 29 exits 0 even when it fails: read its text.
	if !strings.Contains(out, "connected to "+serial) {
		t.Fatalf("adb connect %s: %q", serial, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		devs, _ := s.run(t, "devices")
		if strings.Contains(devs, serial+"\tdevice") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("adb devices never listed %s as device:\n%s", serial, devs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
