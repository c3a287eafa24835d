package pluginbuild

import (
	"fmt"
	"path/filepath"
	"testing"
)

var modules = &cache{prefix: "pluginbuild-wasm-"}

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
	var path string
	abs, err := filepath.Abs(pkgDir)
	if err == nil {
		path, err = modules.get(abs+"\x00"+ldflags, filepath.Base(abs), ".wasm", func(path string) error {
			args := []string{"-buildmode=c-shared", "-o", path}
			if ldflags != "" {
				args = append(args, "-ldflags", ldflags)
			}
			what := fmt.Sprintf("GOOS=wasip1 GOARCH=wasm go build %s in %s", ldflags, pkgDir)
			return goBuild(abs, []string{"GOOS=wasip1", "GOARCH=wasm"}, what, append(args, ".")...)
		})
	}
	if err != nil {
		if _, ok := err.(noToolchainError); ok {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	return path
}

// CleanupWasm removes every module BuildWasm built in this run. Call it
// from TestMain after m.Run; BuildWasm may be used again afterwards.
func CleanupWasm() { modules.cleanup() }
