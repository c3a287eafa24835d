package fleet

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/realadb"
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

// output runs adb and returns its stdout only, failing on a non-zero exit.
func (s *adbServer) output(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := s.Command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("adb %v: %v: %s", args, err, stderr.String())
	}
	return out
}

// connect runs `adb connect serial` and waits until `adb devices` lists it
// as a device.
func (s *adbServer) connect(t testing.TB, serial string) {
	t.Helper()
	out, _ := s.Run(t, "connect", serial)
	// adb 29 exits 0 even when it fails: read its text.
	if !strings.Contains(out, "connected to "+serial) {
		t.Fatalf("adb connect %s: %q", serial, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		devs, _ := s.Run(t, "devices")
		if strings.Contains(devs, serial+"\tdevice") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("adb devices never listed %s as device:\n%s", serial, devs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// adbServer is an isolated real adb server for this test (sdk/adb/realadb).
type adbServer struct{ *realadb.Server }

func startADB(t testing.TB) *adbServer {
	t.Helper()
	return &adbServer{realadb.Start(t, realadb.Options{})}
}

func freePort(t testing.TB) int { return realadb.FreePort(t) }
