package pluginbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	wasmMu    sync.Mutex
	wasmDir   string
	wasmBuilt = map[string]*goBuild{}
)

// BuildWasm builds the main package in pkgDir (a directory relative to the
// test's working directory such as "./testdata/loop", or absolute) as a wasm
// plugin, GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, with the given
// -ldflags (may be empty), and returns the .wasm file's path. A module is
// built once per test-binary run and shared by every test that asks for the
// same pkgDir and ldflags; call CleanupWasm from TestMain to remove them. It
// skips the test when no Go toolchain is found; a build failure fails the
// test with the compiler's output.
func BuildWasm(t testing.TB, pkgDir, ldflags string) string {
	t.Helper()
	path, err := buildWasm(pkgDir, ldflags)
	if err != nil {
		if _, ok := err.(noToolchainError); ok {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return path
}

type noToolchainError struct{ error }

func buildWasm(pkgDir, ldflags string) (string, error) {
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		return "", fmt.Errorf("buildtest: %w", err)
	}
	gobin, err := goTool()
	if err != nil {
		return "", noToolchainError{fmt.Errorf("buildtest: no go toolchain: %w", err)}
	}
	key := abs + "\x00" + ldflags
	wasmMu.Lock()
	if wasmDir == "" {
		dir, err := os.MkdirTemp("", "buildtest-wasm-")
		if err != nil {
			wasmMu.Unlock()
			return "", fmt.Errorf("buildtest: create build dir: %w", err)
		}
		wasmDir = dir
	}
	b, ok := wasmBuilt[key]
	if !ok {
		b = &goBuild{}
		wasmBuilt[key] = b
	}
	dir := wasmDir
	wasmMu.Unlock()

	b.once.Do(func() {
		sum := sha256.Sum256([]byte(key))
		b.path = filepath.Join(dir, filepath.Base(abs)+"-"+hex.EncodeToString(sum[:6])+".wasm")
		args := []string{"build", "-buildmode=c-shared", "-o", b.path}
		if ldflags != "" {
			args = append(args, "-ldflags", ldflags)
		}
		cmd := exec.Command(gobin, append(args, ".")...)
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("buildtest: GOOS=wasip1 GOARCH=wasm go %s in %s: %w\n%s",
				strings.Join(args, " "), pkgDir, err, strings.TrimSpace(string(out)))
		}
	})
	return b.path, b.err
}

// CleanupWasm removes every module BuildWasm built in this run. Call it
// from TestMain after m.Run; BuildWasm may be used again afterwards.
func CleanupWasm() {
	wasmMu.Lock()
	defer wasmMu.Unlock()
	if wasmDir != "" {
		_ = os.RemoveAll(wasmDir)
	}
	wasmDir = ""
	wasmBuilt = map[string]*goBuild{}
}

// goTool finds the go command: the toolchain that built the running test
// binary, else the one on PATH.
func goTool() (string, error) {
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("go")
}
