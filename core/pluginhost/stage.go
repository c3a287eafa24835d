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
	"sync"
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
	// Wasm holds the module bytes for a wasm plugin. They are valid only
	// during the LoadFunc call that receives them (the host reuses the
	// buffer): a loader that keeps them must copy them.
	Wasm []byte
}

// readBuffer is a buffer plugin files are read into, reused from one load
// to the next. Reading a Go guest of several MiB into a fresh allocation
// costs more than reading it (the kernel maps and zeroes every page on
// first touch: 6 to 17 ms for 6.8 MB here, against 0.5 ms into a buffer
// already used), and the buffer is only needed while the file is loaded.
// One load at a time uses it; concurrent loads allocate.
type readBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// maxKeptReadBuffer is the largest buffer a readBuffer keeps.
const maxKeptReadBuffer = 32 << 20

// take returns the buffer, empty, and the function that gives it back
// (with what it has grown to); nil and a no-op when another load has it.
func (b *readBuffer) take() ([]byte, func([]byte)) {
	if b == nil || !b.mu.TryLock() {
		return nil, func([]byte) {}
	}
	return b.buf[:0], func(used []byte) {
		if cap(used) <= maxKeptReadBuffer {
			b.buf = used[:0]
		}
		b.mu.Unlock()
	}
}

// readFileInto reads the file at path into buf, growing it as needed.
func readFileInto(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && int64(cap(buf)) < st.Size()+1 {
		buf = make([]byte, 0, st.Size()+512) // +: a file still growing
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
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
// plugin, copies it into stageDir under its hash. It reads into rb's buffer
// when free; the caller calls done once the File's bytes are no longer
// used, also when stage fails.
func stage(path, stageDir string, rb *readBuffer) (f *File, done func(), err error) {
	if !strings.HasSuffix(path, ".wasm") {
		// A process plugin's swap is dominated by starting it; its binary
		// (often tens of MiB) is not worth keeping a buffer for.
		rb = nil
	}
	buf, giveBack := rb.take()
	f, err = stageRead(path, stageDir, &buf)
	return f, func() { giveBack(buf) }, err
}

// stageRead is stage reading into *buf, which it leaves holding what it
// grew to.
func stageRead(path, stageDir string, buf *[]byte) (*File, error) {
	return stageAs(path, stageDir, buf, strings.HasSuffix(path, ".wasm"))
}

// stageAs is stageRead with the transport's choice made by the caller
// (isWasm: the file is a wasm module whatever its name).
func stageAs(path, stageDir string, buf *[]byte, isWasm bool) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() {
		return nil, ErrNotPlugin
	}
	if !isWasm && st.Mode().Perm()&0o111 == 0 {
		return nil, ErrNotPlugin
	}
	data, err := readFileInto(path, *buf)
	*buf = data
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
