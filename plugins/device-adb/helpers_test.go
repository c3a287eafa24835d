package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// quietLog is a logger for tests: warnings and errors only.
var quietLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// startFleet starts n simulated phones on system-picked 127.0.0.1 ports
// and stops them when the test ends.
func startFleet(t testing.TB, n int, mod ...func(*fleet.Options)) *fleet.Fleet {
	t.Helper()
	o := fleet.Options{Count: n, Listen: "127.0.0.1:0", Logger: quietLog}
	for _, m := range mod {
		m(&o)
	}
	f, err := fleet.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(f.Close)
	return f
}

// newTestBackend is a configured plugin, in process, closed at cleanup.
func newTestBackend(t testing.TB, config string) *backend {
	t.Helper()
	b := newBackend(quietLog)
	t.Cleanup(b.Close)
	if err := b.Configure(context.Background(), []byte(config)); err != nil {
		t.Fatalf("Configure(%s): %v", config, err)
	}
	return b
}

// directConfig configures addresses, a key in a temp dir and no server.
func directConfig(t testing.TB, addrs ...string) string {
	t.Helper()
	q := make([]string, len(addrs))
	for i, a := range addrs {
		q[i] = strconv.Quote(a)
	}
	key := filepath.Join(t.TempDir(), "adbkey")
	return `{"adb_server": "", "adb_key": ` + strconv.Quote(key) + `, "addresses": [` + strings.Join(q, ",") + `]}`
}

func ctx30(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkFor polls f until it returns nil or wait passes.
func checkFor(t testing.TB, wait, poll time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", wait, err)
		}
		time.Sleep(poll)
	}
}

// listed returns the devices List shows, by id.
func listed(t testing.TB, b *backend) (map[string]*cpv1.DeviceInfo, string) {
	t.Helper()
	r, err := b.List(context.Background(), &cpv1.ListRequest{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	m := map[string]*cpv1.DeviceInfo{}
	for _, d := range r.GetDevices() {
		m[d.GetId()] = d
	}
	return m, r.GetBackendStatus()
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

// adbServer is an isolated adb server (own port, own HOME and key) that
// never touches a user's server on 5037, as in device-sim's fleet tests.
type adbServer struct {
	bin  string
	port int
	home string
	env  []string
}

func (s *adbServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// startADB starts Debian's adb server on port (0: a free one) and kills
// it when the test ends.
func startADB(t testing.TB, port int) *adbServer {
	t.Helper()
	bin, err := exec.LookPath("adb")
	if err != nil {
		t.Fatal("adb binary not found; install Debian's adb package (platform-tools 29)")
	}
	if port == 0 {
		port = freePort(t)
	}
	s := &adbServer{bin: bin, port: port, home: t.TempDir()}
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
	for range 40 {
		c, err := net.DialTimeout("tcp", s.addr(), 100*time.Millisecond)
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

// run runs adb with args and returns its combined output and exit code.
func (s *adbServer) run(t testing.TB, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"-P", strconv.Itoa(s.port)}, args...)...)
	cmd.Env = s.env
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

// connect runs `adb connect serial`; adb 29 exits 0 even when it fails,
// so its text is checked.
func (s *adbServer) connect(t testing.TB, serial string) {
	t.Helper()
	out, _ := s.run(t, "connect", serial)
	if !strings.Contains(out, "connected to "+serial) {
		t.Fatalf("adb connect %s: %q", serial, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
