package adbd

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// MemFS is a small in-memory FileSystem, enough for a simulated /sdcard.
// Directories are created on demand. The zero value is an empty file
// system holding only "/". It is safe for concurrent use.
type MemFS struct {
	mu    sync.RWMutex
	files map[string]*memFile
	dirs  map[string]time.Time
}

type memFile struct {
	data  []byte
	mode  fs.FileMode
	mtime time.Time
}

func (m *MemFS) init() {
	if m.files == nil {
		m.files = map[string]*memFile{}
		m.dirs = map[string]time.Time{"/": {}}
	}
}

func clean(p string) string { return path.Clean("/" + p) }

// mkdirAll creates p and its parents; m.mu must be held.
func (m *MemFS) mkdirAll(p string, t time.Time) error {
	for d := p; ; d = path.Dir(d) {
		if _, isFile := m.files[d]; isFile {
			return &fs.PathError{Op: "mkdir", Path: d, Err: wire.ENOTDIR}
		}
		if _, ok := m.dirs[d]; ok {
			break
		}
		m.dirs[d] = t
		if d == "/" {
			break
		}
	}
	return nil
}

// WriteFile stores data at p (creating parent directories).
func (m *MemFS) WriteFile(p string, data []byte, mode fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	p = clean(p)
	if _, isDir := m.dirs[p]; isDir {
		return &fs.PathError{Op: "write", Path: p, Err: wire.EISDIR}
	}
	now := time.Now()
	if err := m.mkdirAll(path.Dir(p), now); err != nil {
		return err
	}
	m.files[p] = &memFile{data: bytes.Clone(data), mode: mode.Perm(), mtime: now}
	return nil
}

// ReadFile returns a copy of the file at p.
func (m *MemFS) ReadFile(p string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f, ok := m.files[clean(p)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return bytes.Clone(f.data), nil
}

// Remove deletes a file or an empty directory.
func (m *MemFS) Remove(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	p = clean(p)
	if _, ok := m.files[p]; ok {
		delete(m.files, p)
		return nil
	}
	if _, ok := m.dirs[p]; !ok || p == "/" {
		return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrNotExist}
	}
	prefix := p + "/"
	for q := range m.files {
		if strings.HasPrefix(q, prefix) {
			return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrExist}
		}
	}
	for q := range m.dirs {
		if strings.HasPrefix(q, prefix) {
			return &fs.PathError{Op: "remove", Path: p, Err: fs.ErrExist}
		}
	}
	delete(m.dirs, p)
	return nil
}

// Mkdir creates directory p and its parents.
func (m *MemFS) Mkdir(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	return m.mkdirAll(clean(p), time.Now())
}

// Stat implements FileSystem.
func (m *MemFS) Stat(_ context.Context, p string) (wire.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	return m.statLocked(clean(p))
}

func (m *MemFS) statLocked(p string) (wire.FileInfo, error) {
	if f, ok := m.files[p]; ok {
		return wire.FileInfo{Name: path.Base(p), Mode: f.mode, Size: int64(len(f.data)), ModTime: f.mtime}, nil
	}
	if t, ok := m.dirs[p]; ok {
		return wire.FileInfo{Name: path.Base(p), Mode: fs.ModeDir | 0o771, ModTime: t}, nil
	}
	return wire.FileInfo{}, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}

// List implements FileSystem.
func (m *MemFS) List(_ context.Context, p string) ([]wire.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	p = clean(p)
	if _, ok := m.dirs[p]; !ok {
		if _, isFile := m.files[p]; isFile {
			return nil, &fs.PathError{Op: "list", Path: p, Err: wire.ENOTDIR}
		}
		return nil, &fs.PathError{Op: "list", Path: p, Err: fs.ErrNotExist}
	}
	var out []wire.FileInfo
	add := func(q string) {
		if q != p && path.Dir(q) == p {
			fi, _ := m.statLocked(q)
			out = append(out, fi)
		}
	}
	for q := range m.dirs {
		add(q)
	}
	for q := range m.files {
		add(q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Open implements FileSystem; the reader sees a snapshot of the file.
func (m *MemFS) Open(_ context.Context, p string) (io.ReadCloser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p = clean(p)
	f, ok := m.files[p]
	if !ok {
		if _, isDir := m.dirs[p]; isDir {
			return nil, &fs.PathError{Op: "open", Path: p, Err: wire.EISDIR}
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return io.NopCloser(bytes.NewReader(f.data)), nil
}

// Create implements FileSystem.
func (m *MemFS) Create(_ context.Context, p string, mode fs.FileMode) (FileWriter, error) {
	m.mu.RLock()
	_, isDir := m.dirs[clean(p)]
	m.mu.RUnlock()
	if isDir {
		return nil, &fs.PathError{Op: "create", Path: p, Err: wire.EISDIR}
	}
	return &memWriter{m: m, path: clean(p), mode: mode}, nil
}

type memWriter struct {
	m    *MemFS
	path string
	mode fs.FileMode
	buf  bytes.Buffer
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *memWriter) Commit(mtime time.Time) error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.init()
	if _, isDir := w.m.dirs[w.path]; isDir {
		return &fs.PathError{Op: "create", Path: w.path, Err: wire.EISDIR}
	}
	if err := w.m.mkdirAll(path.Dir(w.path), mtime); err != nil {
		return err
	}
	w.m.files[w.path] = &memFile{data: w.buf.Bytes(), mode: w.mode.Perm(), mtime: mtime}
	return nil
}

func (w *memWriter) Abort() { w.buf = bytes.Buffer{} }

var _ FileSystem = (*MemFS)(nil)
