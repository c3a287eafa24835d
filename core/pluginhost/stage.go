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

// CheckFileName says why name cannot be the name of a plugin file in the
// plugin directory: not a plain file name, a name the Watcher ignores
// (hidden or temporary, see ignored), or too long. Nil means it can.
func CheckFileName(name string) error {
	switch {
	case name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return fmt.Errorf("plugin name %q is not a plain file name", name)
	case ignored(name):
		return fmt.Errorf("plugin name %q is one the plugin host ignores (hidden or temporary)", name)
	case len(name) > 200:
		return fmt.Errorf("plugin name %q is too long", name)
	}
	return nil
}

// PublishTempPrefix starts the names of the temporary files that the
// host's own publishers (Install, the cluster's plugin sync) write into the
// plugin directory. They prepare those files themselves, so the Watcher
// neither loads nor prepares them.
const PublishTempPrefix = ".cp-publish-"

// stagedName returns the name that a hidden or temporary file in the
// plugin directory names a wasm module by: ".planner.wasm.tmp",
// "planner.wasm.tmp", ".planner.wasm" and rsync's ".planner.wasm.Xy12z"
// all give "planner.wasm". ok is false for any other file, editors' swap
// and backup files and the publishers' own files (PublishTempPrefix)
// included.
func stagedName(path string) (name string, ok bool) {
	base := filepath.Base(path)
	if strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") || strings.HasPrefix(base, PublishTempPrefix) {
		return "", false
	}
	base = strings.TrimLeft(base, ".")
	i := strings.Index(base, ".wasm")
	if i <= 0 {
		return "", false
	}
	if rest := base[i+len(".wasm"):]; rest != "" && rest[0] != '.' {
		return "", false // "x.wasmfoo"
	}
	return base[:i+len(".wasm")], true
}

func fileBase(path string) string { return filepath.Base(path) }

// pinKey is the name a pin is looked up under before the plugin has
// described itself: the file name without its .wasm extension.
func pinKey(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".wasm")
}

// stage reads path, decides its transport and hashes it. A wasm module is
// read into rb's buffer when free; the caller calls done once the File's
// bytes are no longer used, also when stage fails. A process plugin is
// copied into stageDir under its hash instead (stageProcess).
func stage(path, stageDir string, rb *readBuffer) (f *File, done func(), err error) {
	if !strings.HasSuffix(path, ".wasm") {
		// A process plugin's binary (often tens of MiB) is streamed into
		// its staged copy, not read into memory.
		f, err := stageProcess(path, filepath.Base(path), stageDir)
		return f, func() {}, err
	}
	buf, giveBack := rb.take()
	f, err = stageWasm(path, &buf)
	return f, func() { giveBack(buf) }, err
}

// stageWasm reads the wasm module at path (whatever its name) into *buf,
// which it leaves holding what it grew to, and hashes it.
func stageWasm(path string, buf *[]byte) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() {
		return nil, ErrNotPlugin
	}
	data, err := readFileInto(path, *buf)
	*buf = data
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	if len(data) < 8 || !bytes.Equal(data[:4], wasmMagic) {
		return nil, fmt.Errorf("%s: not a wasm module (missing \\0asm header, %d bytes)", filepath.Base(path), len(data))
	}
	sum := sha256.Sum256(data)
	return &File{Path: path, SHA256: hex.EncodeToString(sum[:]), Transport: TransportWasm, Wasm: data, Staged: path}, nil
}

// stageProcess copies the executable at path into stageDir while hashing
// it, then moves the copy to stageDir/<hash>/<name> (kept if that version
// is already staged): the bytes that run are the bytes hashed, and the
// published file may be replaced at once. name is the file's published
// name, which a file prepared under a temporary name is staged as.
func stageProcess(path, name, stageDir string) (*File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", filepath.Base(path), err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return nil, ErrNotPlugin
	}
	if err := os.MkdirAll(stageDir, 0o700); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	tmp, err := os.CreateTemp(stageDir, ".stage-*")
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	_, cerr := io.CopyBuffer(io.MultiWriter(tmp, h), src, make([]byte, 1<<20))
	if err := errors.Join(cerr, tmp.Close(), os.Chmod(tmp.Name(), 0o700)); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	f := &File{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Transport: TransportProcess}
	// stageDir/<hash>/<name>: the process keeps its published name in ps
	// and in errors, and each version has its own copy.
	f.Staged = filepath.Join(stageDir, f.SHA256[:16], name)
	if _, err := os.Stat(f.Staged); err == nil {
		return f, nil // same bytes already staged
	}
	if err := os.MkdirAll(filepath.Dir(f.Staged), 0o700); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), f.Staged); err != nil {
		return nil, fmt.Errorf("stage %s: %w", filepath.Base(path), err)
	}
	return f, nil
}
