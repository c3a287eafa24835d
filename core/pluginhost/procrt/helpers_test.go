package procrt

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// The test binary doubles as a plugin host for TestHostKilledLeavesNoPlugin:
// with envHostPlugin set, TestMain loads that plugin, prints its pid and
// waits to be killed.
const (
	envHostPlugin    = "PROCRT_TEST_HOST_PLUGIN"
	envHostPdeathsig = "PROCRT_TEST_HOST_PDEATHSIG"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envHostPlugin); path != "" {
		os.Exit(runHost(path))
	}
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// runHost is the child host: it loads the plugin, prints "pid N" and sleeps.
func runHost(path string) int {
	if os.Getenv(envHostPdeathsig) == "off" {
		deathSignal = false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := Load(ctx, path, Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "host: load:", err)
		return 1
	}
	fmt.Printf("pid %d\n", p.Pid())
	time.Sleep(time.Hour)
	return 0
}

func plannerBin(t testing.TB) string { return plannerVersion(t, "1.0.0") }

func plannerVersion(t testing.TB, version string) string {
	return pluginbuild.GoBinary(t, "./testdata/planner", "-X main.version="+version)
}

func testBin(t testing.TB, name string) string {
	return pluginbuild.GoBinary(t, "./testdata/"+name, "")
}

// testLogger logs into the test's log, so plugin output shows with -v and on
// failure.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// load loads a plugin for one test and closes it when the test ends.
func load(t testing.TB, path string, opts Options) *Process {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	p, err := Load(ctxT(t, 30*time.Second), path, opts)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pid := p.Pid()
		if err := p.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if pid != 0 && !processGone(pid) {
			t.Errorf("plugin pid %d still runs after Close", pid)
		}
	})
	return p
}

// ctxT is a context that ends after d or with the test.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// checkFor calls f every poll until it returns nil, failing the test with
// f's last error after wait.
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

// processGone reports whether pid no longer runs: /proc has no entry, or
// the entry is a zombie waiting for its (new) parent to reap it.
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesized command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// readPid reads the "pid N" line the child host prints.
func readPid(r io.Reader) (int, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("read pid line: %w (got %q)", err, line)
	}
	var pid int
	if _, err := fmt.Sscanf(line, "pid %d", &pid); err != nil {
		return 0, fmt.Errorf("parse %q: %w", line, err)
	}
	return pid, nil
}

// discardLogger drops everything (benchmarks).
func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}
