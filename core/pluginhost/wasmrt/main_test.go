package wasmrt

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// testCacheDir is the compilation cache shared by every test of a run. It
// lives in the user cache directory, so that a second `go test` run skips
// compiling the unchanged test modules (a Go guest takes seconds to
// compile); CLOUDPHONE_WASM_TEST_CACHE overrides it, "off" disables it.
var testCacheDir string

func TestMain(m *testing.M) {
	dir := os.Getenv("CLOUDPHONE_WASM_TEST_CACHE")
	switch dir {
	case "off":
		dir = ""
	case "":
		if base, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(base, "cloudphone", "wasmrt-test")
		}
	}
	testCacheDir = dir
	if dir != "" {
		pruneCache(dir, 512<<20)
	}
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// pruneCache deletes the oldest files under dir until it holds at most
// limit bytes, so the persistent test cache does not grow without bound as
// the test modules change.
func pruneCache(dir string, limit int64) {
	type entry struct {
		path string
		size int64
		mod  time.Time
	}
	var files []entry
	var total int64
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			files = append(files, entry{path, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		if total <= limit {
			return
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}

// Paths of the test modules' sources.
const (
	helloDir     = "../../../examples/planner-hello"
	loopDir      = "testdata/loop"
	oomDir       = "testdata/oom"
	panicDir     = "testdata/panic"
	sandboxDir   = "testdata/sandbox"
	contract2Dir = "testdata/contract2"
	modelDir     = "testdata/model"
)

// newTestRuntime returns a runtime closed when the test ends.
func newTestRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = testCacheDir
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx := context.Background()
	r, err := NewRuntime(ctx, opts)
	if err != nil {
		t.Fatalf("NewRuntime: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(ctx); err != nil {
			t.Errorf("close runtime: %v", err)
		}
	})
	return r
}

// loadTest builds the module in dir and loads it; the module is closed when
// the test ends.
func loadTest(t testing.TB, r *Runtime, dir, ldflags string) *Module {
	t.Helper()
	path := pluginbuild.BuildWasm(t, dir, ldflags)
	ctx := context.Background()
	m, err := r.Load(ctx, path)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := m.Close(ctx); err != nil {
			t.Errorf("close module: %v", err)
		}
	})
	return m
}
