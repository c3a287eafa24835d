package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkFor calls f every poll until it returns nil, and fails the test with
// f's last error once wait has passed.
func checkFor(t *testing.T, wait, poll time.Duration, f func() error) {
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

// recorder collects what a Watcher reports.
type recorder struct {
	mu      sync.Mutex
	changes [][2]*Config
	errs    []error
}

func (r *recorder) onChange(old, next *Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, [2]*Config{old, next})
}

func (r *recorder) onError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *recorder) counts() (changes, errs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes), len(r.errs)
}

func (r *recorder) lastErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs[len(r.errs)-1]
}

// startWatch writes body to a config file and watches it; the watcher is
// closed when the test ends.
func startWatch(t *testing.T, body string) (*Watcher, *recorder, string) {
	t.Helper()
	path := writeConfig(t, body)
	rec := &recorder{}
	w, err := Watch(context.Background(), LoadOptions{File: path, Env: []string{}}, rec.onChange, rec.onError)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w, rec, path
}

// replaceFile publishes body the documented way: write a temp file in the
// same directory, then rename it over path.
func replaceFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

const watchBase = "api:\n  listen: 127.0.0.1:18080\nlog:\n  level: info\nplugins:\n  config:\n    a: {x: 1}\n    b: {y: 2}\n"

func TestWatchAppliesValidEdit(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, path, body string)
	}{
		{"temp file and rename", replaceFile},
		{"direct write", writeFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rec, path := startWatch(t, watchBase)
			old := w.Current()
			edit := strings.Replace(watchBase, "level: info", "level: debug", 1)
			edit = strings.Replace(edit, "{y: 2}", "{y: 3}", 1)
			tt.write(t, path, edit)
			checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
				if got := w.Current().Log.Level; got != "debug" {
					return fmt.Errorf("log.level = %q, want debug", got)
				}
				return nil
			})
			checkFor(t, time.Second, 10*time.Millisecond, func() error {
				if n, _ := rec.counts(); n != 1 {
					return fmt.Errorf("onChange called %d times, want 1", n)
				}
				return nil
			})
			rec.mu.Lock()
			got := rec.changes[0]
			rec.mu.Unlock()
			if got[0] != old || got[1] != w.Current() {
				t.Errorf("onChange(old, next) got other configs than the previous and current ones")
			}
			if d := Diff(got[0], got[1]); strings.Join(d, ",") != "plugins.config.b,log.level" {
				t.Errorf("Diff = %v, want [plugins.config.b log.level]", d)
			}
			if _, n := rec.counts(); n != 0 {
				t.Errorf("onError called: %v", rec.lastErr())
			}
		})
	}
}

func TestWatchRejectsBadEdit(t *testing.T) {
	tests := []struct {
		name string
		edit string
		want []string
	}{
		{"invalid value", strings.Replace(watchBase, "level: info", "level: loud", 1),
			[]string{"cloudphone.yaml:4: log.level: must be one of"}},
		{"malformed YAML", watchBase + "api: [\n", []string{"cloudphone.yaml:", "malformed YAML"}},
		{"restart key", strings.Replace(watchBase, "18080", "18081", 1),
			[]string{"cloudphone.yaml:2: api.listen: cannot change while running (restart to apply); the running config stays"}},
		{"restart key with a valid change", strings.Replace(strings.Replace(watchBase, "18080", "18081", 1), "level: info", "level: warn", 1),
			[]string{"api.listen: cannot change while running"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rec, path := startWatch(t, watchBase)
			old := w.Current()
			replaceFile(t, path, tt.edit)
			checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
				if _, n := rec.counts(); n == 0 {
					return errors.New("onError not called")
				}
				return nil
			})
			err := rec.lastErr()
			if !errors.Is(err, ErrReloadRejected) {
				t.Errorf("error %v does not wrap ErrReloadRejected", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			if w.Current() != old {
				t.Errorf("the running config changed after a rejected edit")
			}
			if n, _ := rec.counts(); n != 0 {
				t.Errorf("onChange called %d times for a rejected edit", n)
			}

			// A good edit after the bad one still applies.
			replaceFile(t, path, strings.Replace(watchBase, "level: info", "level: error", 1))
			checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
				if got := w.Current().Log.Level; got != "error" {
					return fmt.Errorf("log.level = %q, want error", got)
				}
				return nil
			})
		})
	}
}

func TestWatchIgnoresUnchangedAndOtherFiles(t *testing.T) {
	w, rec, path := startWatch(t, watchBase)
	old := w.Current()
	writeFile(t, filepath.Join(filepath.Dir(path), "other.txt"), "x")
	replaceFile(t, path, watchBase+"# a comment only\n")
	// Then a real edit: once it shows, the events before it were handled.
	replaceFile(t, path, strings.Replace(watchBase, "level: info", "level: warn", 1))
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if w.Current().Log.Level != "warn" {
			return errors.New("edit not applied")
		}
		return nil
	})
	changes, errs := rec.counts()
	if changes != 1 || errs != 0 {
		t.Errorf("got %d changes and %d errors, want 1 and 0 (last error %v)", changes, errs, rec.lastErr())
	}
	if Diff(old, w.Current())[0] != "log.level" {
		t.Errorf("Diff = %v", Diff(old, w.Current()))
	}
}

// TestWatchSymlinkSwap updates the file the way Kubernetes updates a
// mounted ConfigMap: the file is a symlink through "..data", and an update
// renames a new "..data" symlink over the old one.
func TestWatchSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	publish := func(gen, body string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, gen), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, gen, "cloudphone.yaml"), body)
		if err := os.Symlink(gen, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	publish("gen1", watchBase)
	path := filepath.Join(dir, "cloudphone.yaml")
	if err := os.Symlink(filepath.Join("..data", "cloudphone.yaml"), path); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	w, err := Watch(context.Background(), LoadOptions{File: path, Env: []string{}}, rec.onChange, rec.onError)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })

	publish("gen2", strings.Replace(watchBase, "level: info", "level: warn", 1))
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if got := w.Current().Log.Level; got != "warn" {
			return fmt.Errorf("log.level = %q, want warn", got)
		}
		return nil
	})
}

func TestWatchInitialErrors(t *testing.T) {
	if _, err := Watch(context.Background(), LoadOptions{File: writeConfig(t, "api: [\n"), Env: []string{}}, nil, nil); err == nil {
		t.Error("Watch accepted a malformed file")
	}
	if _, err := Watch(context.Background(), LoadOptions{File: filepath.Join(t.TempDir(), "absent.yaml"), Env: []string{}}, nil, nil); err == nil {
		t.Error("Watch accepted a missing file")
	}
	w, err := Watch(context.Background(), LoadOptions{Env: []string{}}, nil, nil)
	if err != nil {
		t.Fatalf("Watch without a file: %v", err)
	}
	if Diff(Default(), w.Current()) != nil {
		t.Errorf("Watch without a file does not run the defaults")
	}
	if err := w.Close(); err != nil {
		t.Error(err)
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Watch(ctx, LoadOptions{File: writeConfig(t, watchBase), Env: []string{}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-w.done:
	case <-time.After(3 * time.Second):
		t.Fatal("the watcher goroutine did not stop when its context ended")
	}
	if err := w.Close(); err != nil {
		t.Error(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
