package pluginhost

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// Prepare does, ahead of time, the work that loading the plugin file at
// path will need, and refuses it if its load would be refused, so that
// once the file is published under name in the plugin directory, swapping
// it in costs only starting it. Nothing is registered and no call is
// served: the file may be anywhere, e.g. a hidden temporary file in the
// plugin directory that is renamed into place afterwards, as Install and
// the cluster's plugin sync do.
//
// A wasm module is compiled and one instance started (the runtime keeps
// recently compiled modules in memory by sha256, with a started instance's
// snapshot). A process plugin is staged under name and started once beside
// whatever serves (as every swap does), through its handshake and
// Describe, then stopped; it is not configured. Either way what the
// plugin describes is checked as a load checks it: contract version,
// name, kind, pin. A file refused here (not a plugin, not a valid module,
// a failed handshake, another contract version, not the pinned sha256) is
// refused the same way when it is published.
func (h *Host) Prepare(ctx context.Context, name, path string) error {
	if h.isClosed() {
		return fmt.Errorf("prepare %s: %w", name, ErrClosed)
	}
	var (
		f   *File
		err error
	)
	if strings.HasSuffix(name, ".wasm") {
		var buf []byte
		f, err = stageWasm(path, &buf)
	} else {
		f, err = stageProcess(path, filepath.Base(name), h.opts.StageDir)
	}
	if err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	if err := h.checkPin(pinKey(name), f.SHA256); err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	load := h.opts.Loaders[f.Transport]
	if load == nil {
		return fmt.Errorf("prepare %s: no loader for %s plugins", name, f.Transport)
	}
	f.Path = filepath.Join(filepath.Dir(path), filepath.Base(name))
	inst, err := load(ctx, f, func(string, error) {})
	if err != nil {
		return fmt.Errorf("prepare %s: %w", name, err)
	}
	infoErr := h.checkInfo(inst.Info(), f.SHA256)
	if err := inst.Close(context.WithoutCancel(ctx)); err != nil && infoErr == nil {
		return fmt.Errorf("prepare %s: close the trial instance: %w", name, err)
	}
	if infoErr != nil {
		return fmt.Errorf("prepare %s: %w", name, infoErr)
	}
	h.log.Info("plugin prepared before publishing", "name", name, "transport", f.Transport, "sha256", f.SHA256)
	return nil
}
