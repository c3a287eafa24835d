package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Plugin states, as reported by Status.
const (
	StateLoading  = "loading"
	StateActive   = "active"
	StateDraining = "draining"
	StateRejected = "rejected"
	StateCrashed  = "crashed"
)

// ErrNoPlugin is returned when no active plugin has the name asked for.
var ErrNoPlugin = errors.New("no such plugin")

// ErrClosed is returned by LoadFile after Close.
var ErrClosed = errors.New("plugin host closed")

// LoadFunc loads a staged file for one transport. notify reports later
// changes of a loaded instance's health (a process plugin that crashed and is
// restarting reports StateCrashed with the reason, then StateActive).
type LoadFunc func(ctx context.Context, f *File, notify func(state string, err error)) (Instance, error)

// Options configure a Host. Zero values get the documented defaults.
type Options struct {
	// Dir is the plugin directory (config plugins.dir).
	Dir string
	// StageDir holds private copies of process plugins (default: a
	// directory under os.TempDir()).
	StageDir string
	// Loaders by transport (TransportWasm, TransportProcess).
	Loaders map[string]LoadFunc
	// Pins returns name → sha256 (config plugins.pin); nil means none.
	Pins func() map[string]string
	// PluginConfig returns a plugin's config section as JSON (config
	// plugins.config.<name>); nil means "{}".
	PluginConfig func(name string) []byte
	// DrainTimeout bounds the wait for calls in flight on a replaced
	// version before it is closed anyway (default 30s).
	DrainTimeout time.Duration
	// OnEvent, when set, is told of every load, swap, rejection, unload
	// and crash (the audit log and metrics subscribe here).
	OnEvent func(Event)
	Logger  *slog.Logger
}

// Host is the plugin registry. It is safe for concurrent use.
type Host struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	entries  map[string]*entry     // by plugin name
	byFile   map[string]string     // file path → plugin name it serves
	rejected map[string]*rejection // by file path
	loading  map[string]time.Time  // file path → load start
	fileMu   map[string]*sync.Mutex
	closed   bool
	drains   sync.WaitGroup
	// readBuf is reused to read plugin files (stage.go).
	readBuf readBuffer
}

type entry struct {
	name    string
	cur     *version // guarded by Host.mu for writes; read via snapshot
	state   string
	err     string
	history []Event
}

type rejection struct {
	name, sha256, err string
	at                time.Time
}

// New returns a Host with no plugins loaded.
func New(opts Options) *Host {
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.StageDir == "" {
		opts.StageDir = filepath.Join(os.TempDir(), fmt.Sprintf("cloudphone-plugins-%d", os.Getuid()))
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Host{
		opts:     opts,
		log:      opts.Logger.With("component", "pluginhost"),
		entries:  map[string]*entry{},
		byFile:   map[string]string{},
		rejected: map[string]*rejection{},
		loading:  map[string]time.Time{},
		fileMu:   map[string]*sync.Mutex{},
	}
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func (h *Host) lockFile(path string) func() {
	h.mu.Lock()
	m := h.fileMu[path]
	if m == nil {
		m = &sync.Mutex{}
		h.fileMu[path] = m
	}
	h.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// LoadFile validates the plugin at path and, if it passes, makes it the
// serving version of its name, draining whatever served that name from the
// same file before. A file that fails is recorded as rejected and returned
// as an error; the version serving before keeps serving. A file whose bytes
// equal the serving version's is a no-op.
func (h *Host) LoadFile(ctx context.Context, path string) error {
	defer h.lockFile(path)()
	if h.isClosed() {
		return fmt.Errorf("load %s: %w", fileBase(path), ErrClosed)
	}
	start := time.Now()
	f, done, err := stage(path, h.opts.StageDir, &h.readBuf)
	defer done()
	if errors.Is(err, ErrNotPlugin) {
		return err
	}
	if err == nil {
		if cur := h.servingFrom(path); cur != nil && cur.sha256 == f.SHA256 {
			return nil
		}
		err = h.checkPin(pinKey(path), f.SHA256)
	}
	if err != nil {
		h.reject(path, "", sha(f), err)
		return err
	}
	h.mu.Lock()
	h.loading[path] = start
	h.mu.Unlock()
	defer func() { h.mu.Lock(); delete(h.loading, path); h.mu.Unlock() }()

	w := &watchdog{h: h}
	inst, name, err := h.load(ctx, f, w)
	if err != nil {
		h.reject(path, name, f.SHA256, err)
		return err
	}
	v := newVersion(inst, path, f.SHA256, time.Now())
	w.bind(name, v)
	if !h.swap(ctx, name, v, start) {
		return fmt.Errorf("load %s: %w", fileBase(path), ErrClosed)
	}
	return nil
}

func sha(f *File) string {
	if f == nil {
		return ""
	}
	return f.SHA256
}

// load runs the transport's loader and validates what it describes.
func (h *Host) load(ctx context.Context, f *File, w *watchdog) (Instance, string, error) {
	loader := h.opts.Loaders[f.Transport]
	if loader == nil {
		return nil, "", fmt.Errorf("load %s: no loader for %s plugins", filepath.Base(f.Path), f.Transport)
	}
	inst, err := loader(ctx, f, w.notify)
	if err != nil {
		if strings.Contains(err.Error(), fileBase(f.Path)) {
			return nil, "", err // the loader already names the file
		}
		return nil, "", fmt.Errorf("load %s: %w", fileBase(f.Path), err)
	}
	info := inst.Info()
	fail := func(err error) (Instance, string, error) {
		_ = inst.Close(context.WithoutCancel(ctx))
		return nil, info.GetName(), fmt.Errorf("load %s: %w", filepath.Base(f.Path), err)
	}
	if err := h.checkInfo(info, f.SHA256); err != nil {
		return fail(err)
	}
	h.mu.Lock()
	other, taken := h.entries[info.Name]
	owner := ""
	if taken && other.cur != nil && other.cur.file != f.Path {
		owner = other.cur.file
	}
	h.mu.Unlock()
	if owner != "" {
		return fail(fmt.Errorf("plugin name %q is already served by %s: remove that file first", info.Name, filepath.Base(owner)))
	}
	if err := inst.Configure(ctx, h.pluginConfig(info.Name)); err != nil {
		return fail(fmt.Errorf("configure %s: %w", info.Name, err))
	}
	return inst, info.Name, nil
}

// checkInfo refuses a plugin whose description the host cannot serve: none,
// another contract major version, an invalid name, no kind, or a file
// other than the one config pins for its name.
func (h *Host) checkInfo(info *cpv1.PluginInfo, sum string) error {
	switch {
	case info == nil:
		return errors.New("plugin did not describe itself")
	case info.ContractMajor != cpv1.ContractMajor:
		return fmt.Errorf("plugin %q was built for contract v%d, this host speaks v%d: rebuild it against sdk v%d",
			info.Name, info.ContractMajor, cpv1.ContractMajor, cpv1.ContractMajor)
	case !validName.MatchString(info.Name):
		return fmt.Errorf("invalid plugin name %q: use [a-z0-9][a-z0-9._-]*, at most 64 characters", info.Name)
	case info.Kind == cpv1.PluginKind_PLUGIN_KIND_UNSPECIFIED:
		return fmt.Errorf("plugin %q does not say its kind", info.Name)
	}
	return h.checkPin(info.Name, sum)
}

func (h *Host) checkPin(name, sum string) error {
	if h.opts.Pins == nil {
		return nil
	}
	want, ok := h.opts.Pins()[name]
	if !ok || want == sum {
		return nil
	}
	return fmt.Errorf("sha256 mismatch for %s: file has %s, config plugins.pin pins %s", name, sum, want)
}

func (h *Host) pluginConfig(name string) []byte {
	if h.opts.PluginConfig == nil {
		return []byte("{}")
	}
	return h.opts.PluginConfig(name)
}

// swap makes v the serving version of name and drains the one before. On
// a host closed while v was loading, v is closed instead and swap reports
// false, so no plugin outlives Close.
func (h *Host) swap(ctx context.Context, name string, v *version, start time.Time) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		v.drain(ctx) // never served: nothing in flight, closes at once
		return false
	}
	e := h.entries[name]
	if e == nil {
		e = &entry{name: name}
		h.entries[name] = e
	}
	old := e.cur
	e.cur, e.state, e.err = v, StateActive, ""
	if old != nil && old.file != v.file {
		delete(h.byFile, old.file)
	}
	h.byFile[v.file] = name
	delete(h.rejected, v.file)
	info := v.inst.Info()
	ev := Event{Time: v.loadedAt, Plugin: name, File: v.file, Version: info.Version, SHA256: v.sha256,
		Action: ActionLoaded, Duration: time.Since(start)}
	if old != nil {
		ev.Action, ev.Previous = ActionSwapped, old.inst.Info().Version
	}
	h.recordLocked(e, ev)
	h.mu.Unlock()
	h.log.Info("plugin "+ev.Action, "plugin", name, "version", info.Version, "transport", v.inst.Transport(),
		"file", filepath.Base(v.file), "took", ev.Duration)
	if old != nil {
		h.drainAsync(ctx, old)
	}
	return true
}

func (h *Host) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

func (h *Host) drainAsync(ctx context.Context, old *version) {
	h.drains.Add(1)
	go func() {
		defer h.drains.Done()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.DrainTimeout)
		defer cancel()
		if !old.drain(dctx) {
			h.log.Warn("plugin version closed with calls still in flight", "file", old.file, "drain_timeout", h.opts.DrainTimeout)
		}
	}()
}

func (h *Host) reject(path, name, sum string, err error) {
	h.mu.Lock()
	h.rejected[path] = &rejection{name: name, sha256: sum, err: err.Error(), at: time.Now()}
	ev := Event{Time: time.Now(), Plugin: name, File: path, SHA256: sum, Action: ActionRejected, Error: err.Error()}
	if e := h.entries[h.byFile[path]]; e != nil {
		h.recordLocked(e, ev)
	} else if h.opts.OnEvent != nil {
		h.opts.OnEvent(ev)
	}
	h.mu.Unlock()
	h.log.Warn("plugin rejected; the version serving before (if any) keeps serving", "file", filepath.Base(path), "error", err)
}

// UnloadFile stops serving the plugin loaded from path, after draining its
// calls in flight, and forgets any rejection recorded for it.
func (h *Host) UnloadFile(ctx context.Context, path string) {
	defer h.lockFile(path)()
	h.mu.Lock()
	delete(h.rejected, path)
	name, ok := h.byFile[path]
	if !ok {
		h.mu.Unlock()
		return
	}
	delete(h.byFile, path)
	e := h.entries[name]
	old := e.cur
	delete(h.entries, name)
	h.recordLocked(e, Event{Time: time.Now(), Plugin: name, File: path, Version: old.inst.Info().Version,
		SHA256: old.sha256, Action: ActionUnloaded})
	h.mu.Unlock()
	h.log.Info("plugin unloaded", "plugin", name, "file", filepath.Base(path))
	h.drainAsync(ctx, old)
}

func (h *Host) servingFrom(path string) *version {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := h.entries[h.byFile[path]]; e != nil {
		return e.cur
	}
	return nil
}

// LoadDir loads every plugin file in the directory, in name order. Files
// that fail are recorded as rejected; the error joins their reasons.
func (h *Host) LoadDir(ctx context.Context) error {
	ents, err := os.ReadDir(h.opts.Dir)
	if err != nil {
		return fmt.Errorf("read plugin dir: %w", err)
	}
	var errs []error
	for _, de := range ents {
		if de.IsDir() || ignored(de.Name()) {
			continue
		}
		if err := h.LoadFile(ctx, filepath.Join(h.opts.Dir, de.Name())); err != nil && !errors.Is(err, ErrNotPlugin) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Reconfigure hands every active plugin whose name is in names its current
// config section again (after a config reload).
func (h *Host) Reconfigure(ctx context.Context, names []string) error {
	var errs []error
	for _, name := range names {
		l, err := h.Acquire(name)
		if err != nil {
			continue
		}
		if err := l.Instance().Configure(ctx, h.pluginConfig(name)); err != nil {
			errs = append(errs, fmt.Errorf("configure %s: %w", name, err))
		}
		l.Release()
	}
	return errors.Join(errs...)
}

// Close unloads every plugin, draining calls in flight, and waits for the
// drains to finish.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	files := make([]string, 0, len(h.byFile))
	for f := range h.byFile {
		files = append(files, f)
	}
	h.mu.Unlock()
	sort.Strings(files)
	for _, f := range files {
		h.UnloadFile(ctx, f)
	}
	h.drains.Wait()
	return nil
}
