package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrRejected marks an Install refused because of the plugin file itself
// (not a plugin, a bad module, a failed handshake, another pinned
// sha256), as opposed to the host failing to do it.
var ErrRejected = errors.New("plugin rejected")

// Install publishes the plugin file at src under name in the plugin
// directory, the way that swaps fastest and fails safest, and returns once
// the new version serves, with its sha256. It copies src to a hidden file
// in the directory (ignored by the Watcher), prepares it there (Prepare: a
// wasm module is compiled and started, a process plugin started through
// its handshake and Describe, and what either describes is checked), and
// only then renames it into place and loads it. A file refused before the
// rename leaves the directory as it was; one refused at its load (a
// plugin whose Configure fails, a name another file serves) stays in
// place, recorded as rejected, while the version before it keeps serving,
// as for a file copied in by hand. Errors about the file wrap ErrRejected.
func (h *Host) Install(ctx context.Context, name, src string) (string, error) {
	if err := CheckFileName(name); err != nil {
		return "", fmt.Errorf("install %q: %w: the name must be a plain file name, not hidden or temporary: %v", name, ErrRejected, err)
	}
	if h.isClosed() {
		return "", fmt.Errorf("install %s: %w", name, ErrClosed)
	}
	tmp, err := copyHidden(src, h.opts.Dir)
	if err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := h.Prepare(ctx, name, tmp); err != nil {
		if errors.Is(err, ErrClosed) {
			return "", err
		}
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	dst := filepath.Join(h.opts.Dir, name)
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	// Once renamed the file is published: finish loading it even if the
	// caller goes away (a client that hung up), so that what serves and
	// what the directory holds agree.
	if err := h.LoadFile(context.WithoutCancel(ctx), dst); err != nil {
		if errors.Is(err, ErrClosed) {
			return "", err
		}
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if v := h.servingFrom(dst); v != nil {
		return v.sha256, nil
	}
	return "", fmt.Errorf("install %s: %w: loaded, but nothing serves from it", name, ErrRejected)
}

// copyHidden copies src, with its permission bits, to a new hidden file in
// dir whose name the Watcher neither loads nor prepares, and returns its
// path.
func copyHidden(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: %w: not a regular file", src, ErrRejected)
	}
	out, err := os.CreateTemp(dir, PublishTempPrefix+"install-*")
	if err != nil {
		return "", err
	}
	path := out.Name()
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(st.Mode().Perm())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}
