package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/realadb"

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

func itoa(n int) string { return strconv.Itoa(n) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// adbServer is an isolated real adb server for this test (sdk/adb/realadb).
type adbServer struct{ *realadb.Server }

func startADB(t testing.TB, port int) *adbServer {
	t.Helper()
	return &adbServer{realadb.Start(t, realadb.Options{Port: port, Require: true})}
}

func freePort(t testing.TB) int { return realadb.FreePort(t) }

// connect runs `adb connect serial`; adb 29 exits 0 even when it fails,
// so its text is checked.
func (s *adbServer) connect(t testing.TB, serial string) {
	t.Helper()
	out, _ := s.Run(t, "connect", serial)
	if !strings.Contains(out, "connected to "+serial) {
		t.Fatalf("adb connect %s: %q", serial, out)
	}
}
