package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions tune the Watcher. Zero values get the defaults.
type WatchOptions struct {
	// Debounce is how long a file must see no events before it is checked
	// (default 50ms).
	Debounce time.Duration
	// Settle is the pause between the two size/mtime readings that must
	// agree before a file is loaded (default 10ms).
	Settle time.Duration
	// OnPrepared, if set, is told when a staged wasm file (see Watcher)
	// has been prepared, with the error if it could not be. Tests use it.
	OnPrepared func(path string, err error)
}

// Watcher keeps the Host in step with its plugin directory: a created or
// changed file is loaded (and swapped in) once it is stable, a removed file
// is unloaded after draining. Names starting with "." or ending in ".tmp"
// are in-progress publishes and are never loaded; but one that names a
// wasm module (".planner.wasm.tmp", rsync's ".planner.wasm.Xy12z") is
// prepared once stable (Host.Prepare: compiled, one instance started and
// snapshotted), so that when it is renamed into place the swap finds the
// compiled code in memory: tens of milliseconds instead of a full compile
// of a Go guest (over a second).
type Watcher struct {
	h    *Host
	opts WatchOptions
	fsw  *fsnotify.Watcher

	mu     sync.Mutex
	timers map[string]*time.Timer
	seen   map[string]fileStamp

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// Watch starts watching the Host's plugin directory. It does not load what
// is already there: call LoadDir first. Close stops it.
func (h *Host) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Settle == 0 {
		opts.Settle = 10 * time.Millisecond
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch plugin dir: %w", err)
	}
	if err := fsw.Add(h.opts.Dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch plugin dir %s: %w", h.opts.Dir, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{h: h, opts: opts, fsw: fsw, timers: map[string]*time.Timer{}, seen: map[string]fileStamp{}, cancel: cancel}
	w.wg.Add(1)
	go w.loop(ctx)
	return w, nil
}

func (w *Watcher) loop(ctx context.Context) {
	defer w.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.h.log.Warn("plugin dir watch error", "error", err)
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if filepath.Dir(ev.Name) != filepath.Clean(w.h.opts.Dir) {
				continue
			}
			if ignored(ev.Name) {
				if _, ok := stagedName(ev.Name); ok && ev.Has(fsnotify.Create|fsnotify.Write) {
					w.schedule(ctx, ev.Name, w.opts.Debounce)
				}
				continue
			}
			w.schedule(ctx, ev.Name, w.opts.Debounce)
		}
	}
}

// schedule (re)arms the per-file timer: every event pushes the check back.
func (w *Watcher) schedule(ctx context.Context, path string, after time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.timers[path]; t != nil && t.Stop() {
		w.wg.Done() // its func will not run
	}
	w.wg.Add(1)
	var t *time.Timer
	t = time.AfterFunc(after, func() {
		defer w.wg.Done()
		w.mu.Lock()
		current := w.timers[path] == t
		w.mu.Unlock()
		if current && ctx.Err() == nil {
			w.check(ctx, path)
		}
	})
	w.timers[path] = t
}

// check loads, reloads or unloads path once its size and mtime have held
// still across one settle interval; a staged file is prepared instead.
func (w *Watcher) check(ctx context.Context, path string) {
	staged := ignored(path)
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		w.forget(path)
		if !staged { // a staged file that is gone was published or dropped
			w.h.UnloadFile(ctx, path)
		}
		return
	}
	if err != nil || st.IsDir() {
		return
	}
	stamp := fileStamp{size: st.Size(), mtime: st.ModTime()}
	w.mu.Lock()
	prev, ok := w.seen[path]
	w.seen[path] = stamp
	w.mu.Unlock()
	if !ok || prev != stamp {
		w.schedule(ctx, path, w.opts.Settle)
		return
	}
	w.forget(path)
	if staged {
		w.prepare(ctx, path)
		return
	}
	if err := w.h.LoadFile(ctx, path); err != nil && !errors.Is(err, ErrNotPlugin) {
		return // recorded as rejected and logged by LoadFile
	}
}

// prepare prepares a stable staged file under the name it will most likely
// be published as. A failure is only logged: the file may be something
// else's temporary file, and if it is published, its load says why.
func (w *Watcher) prepare(ctx context.Context, path string) {
	name, _ := stagedName(path)
	err := w.h.Prepare(ctx, name, path)
	if err != nil {
		w.h.log.Debug("staged plugin file not prepared", "file", filepath.Base(path), "err", err)
	}
	if w.opts.OnPrepared != nil {
		w.opts.OnPrepared(path, err)
	}
}

func (w *Watcher) forget(path string) {
	w.mu.Lock()
	delete(w.seen, path)
	delete(w.timers, path)
	w.mu.Unlock()
}

// Close stops watching and waits for checks in progress.
func (w *Watcher) Close() error {
	w.cancel()
	err := w.fsw.Close()
	w.mu.Lock()
	for p, t := range w.timers {
		if t.Stop() {
			w.wg.Done()
		}
		delete(w.timers, p)
	}
	w.mu.Unlock()
	w.wg.Wait()
	return err
}
