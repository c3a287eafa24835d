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
)

// cache holds what one kind of build produced in this test-binary run:
// each key is built at most once, into a temporary directory that cleanup
// removes.
type cache struct {
	prefix string // of the temporary directory

	mu    sync.Mutex
	dir   string
	built map[string]*build
}

// build is one artifact, built at most once.
type build struct {
	once sync.Once
	path string
	err  error
}

// get returns the artifact for key, building it with run on first use.
// name is the artifact's file name stem; run writes to the path it is
// given.
func (c *cache) get(key, name, ext string, run func(path string) error) (string, error) {
	c.mu.Lock()
	if c.dir == "" {
		dir, err := os.MkdirTemp("", c.prefix)
		if err != nil {
			c.mu.Unlock()
			return "", fmt.Errorf("pluginbuild: create build dir: %w", err)
		}
		c.dir = dir
	}
	if c.built == nil {
		c.built = map[string]*build{}
	}
	b, ok := c.built[key]
	if !ok {
		b = &build{}
		c.built[key] = b
	}
	dir := c.dir
	c.mu.Unlock()

	b.once.Do(func() {
		sum := sha256.Sum256([]byte(key))
		b.path = filepath.Join(dir, name+"-"+hex.EncodeToString(sum[:6])+ext)
		b.err = run(b.path)
	})
	return b.path, b.err
}

// cleanup removes everything built; the cache may be used again.
func (c *cache) cleanup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
	c.dir, c.built = "", nil
}

// goBuild runs `go build` with args in dir (empty: the current directory)
// and extra environment, wrapping a failure with the compiler's output.
func goBuild(dir string, env []string, what string, args ...string) error {
	gobin, err := goTool()
	if err != nil {
		return noToolchainError{fmt.Errorf("pluginbuild: no go toolchain: %w", err)}
	}
	cmd := exec.Command(gobin, append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pluginbuild: %s: %w\n%s", what, err, strings.TrimSpace(string(out)))
	}
	return nil
}

type noToolchainError struct{ error }

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
