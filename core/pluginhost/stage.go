package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// File is a plugin file as the host stages it for a loader.
type File struct {
	// Path is the file in the plugin directory.
	Path string
	// Staged is what the loader must read or execute: for a process plugin
	// a private copy, so the published file can be replaced (even by cp
	// onto a running binary) and the bytes that run are the bytes hashed.
	Staged string
	// SHA256 of the staged bytes, hex.
	SHA256 string
	// Transport is TransportWasm or TransportProcess.
	Transport string
	// Wasm holds the module bytes for a wasm plugin.
	Wasm []byte
}

// ErrNotPlugin is returned for files in the plugin directory that are not
// plugins (not .wasm, not executable); the watcher ignores them.
var ErrNotPlugin = errors.New("not a plugin file (neither .wasm nor executable)")

var wasmMagic = []byte{0x00, 'a', 's', 'm'}

// ignored reports whether a name in the plugin directory is a temporary
// file of an in-progress publish.
func ignored(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".tmp") ||
		strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp")
}

func fileBase(path string) string { return filepath.Base(path) }

// pinKey is the name a pin is looked up under before the plugin has
// described itself: the file name without its .wasm extension.
func pinKey(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".wasm")
}

// stage reads path, decides its transport, hashes it and, for a process
// plugin, copies it into stageDir under its hash.
func stage(path, stageDir string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() {
		return nil, ErrNotPlugin
	}
	isWasm := strings.HasSuffix(path, ".wasm")
	if !isWasm && st.Mode().Perm()&0o111 == 0 {
		return nil, ErrNotPlugin
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	sum := sha256.Sum256(data)
	f := &File{Path: path, SHA256: hex.EncodeToString(sum[:])}
	if isWasm {
		if len(data) < 8 || !bytes.Equal(data[:4], wasmMagic) {
			return nil, fmt.Errorf("%s: not a wasm module (missing \\0asm header, %d bytes)", filepath.Base(path), len(data))
		}
		f.Transport, f.Wasm, f.Staged = TransportWasm, data, path
		return f, nil
	}
	f.Transport = TransportProcess
	if err := os.MkdirAll(stageDir, 0o700); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	// stageDir/<hash>/<name>: the process keeps its published name in ps
	// and in errors, and each version has its own copy.
	f.Staged = filepath.Join(stageDir, f.SHA256[:16], filepath.Base(path))
	if _, err := os.Stat(f.Staged); err == nil {
		return f, nil // same bytes already staged
	}
	if err := os.MkdirAll(filepath.Dir(f.Staged), 0o700); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	if err := writeExecutable(f.Staged, data); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	return f, nil
}

func writeExecutable(dst string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".stage-*")
	if err != nil {
		return err
	}
	_, werr := io.Copy(tmp, bytes.NewReader(data))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o700)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
