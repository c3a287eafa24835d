package pluginhost

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Prepare does, ahead of time, the work that loading the plugin file at
// path will need, so that once the file is published under name in the
// plugin directory, swapping it in costs only starting it. For a wasm
// module that is compiling it (the runtime keeps recently compiled
// modules in memory by sha256, with a started instance's snapshot); a
// process plugin needs nothing ahead (starting it is the load). Nothing
// is registered and no
// call is served: the file may be anywhere, e.g. a hidden temporary file
// in the plugin directory that is renamed into place afterwards, as the
// cluster's plugin sync does. A file refused here (not a plugin, not a
// valid module, not the pinned sha256 for name) is refused the same way
// when it is published.
func (h *Host) Prepare(ctx context.Context, name, path string) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return fmt.Errorf("prepare %s: %w", name, ErrClosed)
	}
	if !strings.HasSuffix(name, ".wasm") {
		return nil
	}
	var buf []byte
	f, err := stageWasm(path, &buf)
	if err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	if err := h.checkPin(pinKey(name), f.SHA256); err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	load := h.opts.Loaders[TransportWasm]
	if load == nil {
		return fmt.Errorf("prepare %s: no loader for wasm plugins", name)
	}
	f.Path = filepath.Join(filepath.Dir(path), filepath.Base(name))
	inst, err := load(ctx, f, func(string, error) {})
	if err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	if err := inst.Close(ctx); err != nil {
		return fmt.Errorf("prepare %s: close the trial instance: %w", name, err)
	}
	h.log.Info("plugin prepared before publishing", "name", name, "sha256", f.SHA256)
	return nil
}
