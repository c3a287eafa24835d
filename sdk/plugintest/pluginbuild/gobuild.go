package pluginbuild

import (
	"fmt"
	"path/filepath"
	"testing"
)

var binaries = &cache{prefix: "pluginbuild-go-"}

// GoBinary builds the main package pkg (an import path, or a directory
// relative to the test's working directory such as "./testdata/planner")
// with the given -ldflags (may be empty) and returns the binary's path. A
// binary is built once per test-binary run and shared by every test that
// asks for the same pkg and ldflags; call Cleanup from TestMain to remove
// them. A build failure fails the test with the compiler's output.
func GoBinary(t testing.TB, pkg, ldflags string) string {
	t.Helper()
	path, err := binaries.get(pkg+"\x00"+ldflags, filepath.Base(pkg), "", func(path string) error {
		args := []string{"-o", path}
		if ldflags != "" {
			args = append(args, "-ldflags", ldflags)
		}
		return goBuild("", nil, fmt.Sprintf("go build %s (ldflags %q)", pkg, ldflags), append(args, pkg)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Cleanup removes every binary GoBinary built in this run. Call it from
// TestMain after m.Run; GoBinary may be used again afterwards.
func Cleanup() { binaries.cleanup() }
