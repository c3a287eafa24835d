package pluginbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	goMu    sync.Mutex
	goDir   string
	goBuilt = map[string]*goBuild{}
)

// goBuild is one binary, built at most once.
type goBuild struct {
	once sync.Once
	path string
	err  error
}

// GoBinary builds the main package pkg (an import path, or a directory
// relative to the test's working directory such as "./testdata/planner")
// with the given -ldflags (may be empty) and returns the binary's path. A
// binary is built once per test-binary run and shared by every test that
// asks for the same pkg and ldflags; call Cleanup from TestMain to remove
// them. A build failure fails the test with the compiler's output.
func GoBinary(t testing.TB, pkg, ldflags string) string {
	t.Helper()
	path, err := goBinary(pkg, ldflags)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func goBinary(pkg, ldflags string) (string, error) {
	key := pkg + "\x00" + ldflags
	goMu.Lock()
	if goDir == "" {
		dir, err := os.MkdirTemp("", "buildtest-go-")
		if err != nil {
			goMu.Unlock()
			return "", fmt.Errorf("buildtest: create build dir: %w", err)
		}
		goDir = dir
	}
	b, ok := goBuilt[key]
	if !ok {
		b = &goBuild{}
		goBuilt[key] = b
	}
	dir := goDir
	goMu.Unlock()

	b.once.Do(func() {
		sum := sha256.Sum256([]byte(key))
		b.path = filepath.Join(dir, filepath.Base(pkg)+"-"+hex.EncodeToString(sum[:6]))
		args := []string{"build", "-o", b.path}
		if ldflags != "" {
			args = append(args, "-ldflags", ldflags)
		}
		cmd := exec.Command("go", append(args, pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("buildtest: go build %s (ldflags %q): %w\n%s",
				pkg, ldflags, err, strings.TrimSpace(string(out)))
		}
	})
	return b.path, b.err
}

// Cleanup removes every binary GoBinary built in this run. Call it from
// TestMain after m.Run; GoBinary may be used again afterwards.
func Cleanup() {
	goMu.Lock()
	defer goMu.Unlock()
	if goDir != "" {
		_ = os.RemoveAll(goDir)
	}
	goDir = ""
	goBuilt = map[string]*goBuild{}
}
