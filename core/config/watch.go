package config

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce is how long the config directory must be quiet before the
// file is read again.
const reloadDebounce = 100 * time.Millisecond

// Watcher holds the running configuration and reloads it when its file
// changes. It is safe for concurrent use.
//
// A reload reads the file again and applies the environment and flags that
// Watch was given, so they keep their precedence. The new configuration is
// loaded and validated whole. It is applied only if it is valid and changes
// no key that needs a restart (api.listen, data.dir, plugins.dir, …): the
// whole edit is refused otherwise, never half applied, and the running
// config stays. Refusing the whole edit keeps what runs equal to a file
// that loads cleanly at the next start.
type Watcher struct {
	opts      LoadOptions
	cur       atomic.Pointer[Config]
	fsw       *fsnotify.Watcher
	onChange  func(old, next *Config)
	onError   func(error)
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	last      [sha256.Size]byte // digest of the file contents last read
	missing   bool              // the file was missing at the last read
}

// Watch loads the configuration like Load and then watches opts.File: on
// each change it reloads (see Watcher), calls onChange(old, next) for an
// applied edit that changed something, and onError for a refused one (its
// error wraps ErrReloadRejected) or a watch failure. Both run on the
// watcher's goroutine, one at a time, and must not call Close; either may
// be nil. With no file,
// Watch only loads. The watcher stops when ctx ends or Close is called.
//
// The file's directory is watched, not the file: editors and atomic
// renames replace the file, and Kubernetes swaps a symlink beside it.
// Events are debounced for 100 ms, and an unchanged file is not reloaded.
func Watch(ctx context.Context, opts LoadOptions, onChange func(old, next *Config), onError func(error)) (*Watcher, error) {
	if opts.Env == nil {
		opts.Env = os.Environ() // the environment of the process start applies to every reload
	}
	w := &Watcher{opts: opts, onChange: onChange, onError: onError, done: make(chan struct{})}
	if opts.File == "" {
		cfg, err := Load(opts)
		if err != nil {
			return nil, err
		}
		w.cur.Store(cfg)
		w.cancel = func() {}
		close(w.done)
		return w, nil
	}

	// Watch before the first read, so an edit in between is not lost.
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("config: watch: %w", err)
	}
	dir := filepath.Dir(opts.File)
	if err := fsw.Add(dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("config: watch %s: %w", dir, err)
	}
	data, err := os.ReadFile(opts.File)
	if err != nil {
		fsw.Close()
		return nil, fmt.Errorf("config: %w", err)
	}
	l, err := load(opts, data)
	if err != nil {
		fsw.Close()
		return nil, err
	}
	w.cur.Store(l.cfg)
	w.last = sha256.Sum256(data)
	w.fsw = fsw
	ctx, w.cancel = context.WithCancel(ctx)
	go w.run(ctx)
	return w, nil
}

// Current returns the running configuration.
func (w *Watcher) Current() *Config { return w.cur.Load() }

// Close stops watching and waits for the watcher's goroutine to return. It
// is safe to call more than once.
func (w *Watcher) Close() error {
	var err error
	w.closeOnce.Do(func() {
		w.cancel()
		<-w.done
		if w.fsw != nil {
			err = w.fsw.Close()
		}
	})
	if err != nil {
		return fmt.Errorf("config: close watcher: %w", err)
	}
	return nil
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			// Any event in the directory may be the file being replaced
			// (rename, symlink swap); the digest check skips the others.
			timer.Reset(reloadDebounce)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.report(fmt.Errorf("config: watch %s: %w", filepath.Dir(w.opts.File), err))
		case <-timer.C:
			w.reload()
		}
	}
}

func (w *Watcher) report(err error) {
	if w.onError != nil {
		w.onError(err)
	}
}

// reload reads the file and applies it if it changed, is valid and changes
// no restart key.
func (w *Watcher) reload() {
	data, err := os.ReadFile(w.opts.File)
	if errors.Is(err, fs.ErrNotExist) {
		if !w.missing {
			w.missing = true
			w.report(fmt.Errorf("%w: config: %s was removed", ErrReloadRejected, w.opts.File))
		}
		return
	}
	if err != nil {
		w.report(fmt.Errorf("%w: config: %w", ErrReloadRejected, err))
		return
	}
	sum := sha256.Sum256(data)
	if sum == w.last && !w.missing {
		return
	}
	w.last, w.missing = sum, false

	l, err := load(w.opts, data)
	if err != nil {
		w.report(fmt.Errorf("%w:\n%w", ErrReloadRejected, err))
		return
	}
	old := w.cur.Load()
	changed := Diff(old, l.cfg)
	if len(changed) == 0 {
		return
	}
	var refused []*Error
	for _, key := range changed {
		if needsRestart(key) {
			refused = append(refused, l.errorf(key, "cannot change while running (restart to apply); the running config stays"))
		}
	}
	if err := joinErrors(refused); err != nil {
		w.report(fmt.Errorf("%w:\n%w", ErrReloadRejected, err))
		return
	}
	w.cur.Store(l.cfg)
	if w.onChange != nil {
		w.onChange(old, l.cfg)
	}
}
