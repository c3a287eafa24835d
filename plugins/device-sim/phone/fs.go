package phone

import (
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// FileInfo describes one file or directory of a phone's [FS].
type FileInfo struct {
	Name    string      `json:"name"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"` // permission bits plus fs.ModeDir for directories
	ModTime time.Time   `json:"mod_time"`
}

// IsDir reports whether fi is a directory.
func (fi FileInfo) IsDir() bool { return fi.Mode.IsDir() }

// FS is a phone's small in-memory file system. /sdcard (also reachable as
// /storage/emulated/0 and /storage/self/primary) and /data/local/tmp are
// writable, as for adb's shell user; the rest of the tree is read-only.
// Errors are *fs.PathError wrapping fs.ErrNotExist, fs.ErrExist,
// fs.ErrPermission or fs.ErrInvalid. An FS is safe for concurrent use.
type FS struct {
	mu    sync.RWMutex
	root  *fnode
	clock func() time.Time
}

type fnode struct {
	name    string
	dir     bool
	data    []byte
	mode    fs.FileMode
	mtime   time.Time
	kids    map[string]*fnode
	canEdit bool // children may be created or removed
}

var writableRoots = []string{"/sdcard", "/data/local/tmp"}

func newFS(clock func() time.Time) *FS {
	f := &FS{clock: clock}
	now := clock()
	f.root = &fnode{name: "/", dir: true, mode: fs.ModeDir | 0o755, mtime: now, kids: map[string]*fnode{}}
	for _, d := range []string{"acct", "apex", "cache", "config", "data", "dev", "etc", "mnt", "odm", "proc", "product", "storage", "sys", "system", "system_ext", "vendor"} {
		f.mkdirRaw("/"+d, false)
	}
	f.mkdirRaw("/data/local", false)
	f.mkdirRaw("/system/bin", false)
	f.mkdirRaw("/storage/emulated", false)
	for _, d := range writableRoots {
		f.mkdirRaw(d, true)
	}
	for _, d := range []string{"Alarms", "Android", "DCIM", "Documents", "Download", "Movies", "Music", "Notifications", "Pictures", "Podcasts", "Ringtones"} {
		f.mkdirRaw("/sdcard/"+d, true)
	}
	return f
}

func (f *FS) mkdirRaw(p string, writable bool) {
	dir, base := path.Split(p)
	parent := f.lookup(path.Clean(dir))
	mode := fs.ModeDir | 0o755
	if writable {
		mode = fs.ModeDir | 0o771
	}
	parent.kids[base] = &fnode{name: base, dir: true, mode: mode, mtime: f.clock(), kids: map[string]*fnode{}, canEdit: writable}
}

// Clean maps a path to its canonical form: absolute, cleaned, with the
// /storage aliases of /sdcard folded into /sdcard.
func Clean(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	for _, alias := range []string{"/storage/emulated/0", "/storage/self/primary", "/mnt/sdcard"} {
		if p == alias || strings.HasPrefix(p, alias+"/") {
			p = "/sdcard" + p[len(alias):]
		}
	}
	return p
}

func (f *FS) lookup(p string) *fnode {
	n := f.root
	if p == "/" {
		return n
	}
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if !n.dir {
			return nil
		}
		n = n.kids[part]
		if n == nil {
			return nil
		}
	}
	return n
}

func (n *fnode) info() FileInfo {
	fi := FileInfo{Name: n.name, Mode: n.mode, ModTime: n.mtime}
	if !n.dir {
		fi.Size = int64(len(n.data))
	}
	return fi
}

func pathErr(op, p string, err error) error { return &fs.PathError{Op: op, Path: p, Err: err} }

// Stat describes the file or directory at p.
func (f *FS) Stat(p string) (FileInfo, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.lookup(Clean(p))
	if n == nil {
		return FileInfo{}, pathErr("stat", p, fs.ErrNotExist)
	}
	return n.info(), nil
}

// List returns the entries of directory p sorted by name.
func (f *FS) List(p string) ([]FileInfo, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.lookup(Clean(p))
	if n == nil {
		return nil, pathErr("list", p, fs.ErrNotExist)
	}
	if !n.dir {
		return nil, pathErr("list", p, fs.ErrInvalid)
	}
	out := make([]FileInfo, 0, len(n.kids))
	for _, k := range n.kids {
		out = append(out, k.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReadFile returns a copy of the contents of file p.
func (f *FS) ReadFile(p string) ([]byte, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.lookup(Clean(p))
	if n == nil {
		return nil, pathErr("open", p, fs.ErrNotExist)
	}
	if n.dir {
		return nil, pathErr("read", p, fs.ErrInvalid)
	}
	return append([]byte(nil), n.data...), nil
}

// WriteFile creates or replaces file p with a copy of data, creating missing
// parent directories under a writable root as adbd does for a push. mode 0
// means 0660.
func (f *FS) WriteFile(p string, data []byte, mode fs.FileMode) error {
	return f.write(p, data, mode, true, false)
}

// AppendFile appends data to file p, creating it if needed (not its parents).
func (f *FS) AppendFile(p string, data []byte) error {
	return f.write(p, data, 0, false, true)
}

func (f *FS) write(p string, data []byte, mode fs.FileMode, mkParents, appendTo bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := Clean(p)
	dir, base := path.Split(cp)
	dir = path.Clean(dir)
	if base == "" {
		return pathErr("open", p, fs.ErrInvalid)
	}
	parent := f.lookup(dir)
	if parent == nil && mkParents {
		if err := f.mkdirAll(dir); err != nil {
			return pathErr("open", p, err)
		}
		parent = f.lookup(dir)
	}
	if parent == nil {
		return pathErr("open", p, fs.ErrNotExist)
	}
	if !parent.dir {
		return pathErr("open", p, fs.ErrInvalid)
	}
	if !parent.canEdit {
		return pathErr("open", p, fs.ErrPermission)
	}
	n := parent.kids[base]
	if n != nil && n.dir {
		return pathErr("open", p, fs.ErrInvalid)
	}
	if mode == 0 {
		mode = 0o660
	}
	if n == nil {
		n = &fnode{name: base, mode: mode.Perm()}
		parent.kids[base] = n
	}
	if appendTo {
		n.data = append(n.data, data...)
	} else {
		n.data = append([]byte(nil), data...)
	}
	n.mtime = f.clock()
	return nil
}

// MkdirAll creates directory p and any missing parents.
func (f *FS) MkdirAll(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.mkdirAll(Clean(p)); err != nil {
		return pathErr("mkdir", p, err)
	}
	return nil
}

func (f *FS) mkdirAll(cp string) error {
	n := f.lookup(cp)
	if n != nil {
		if n.dir {
			return nil
		}
		return fs.ErrExist
	}
	dir, base := path.Split(cp)
	dir = path.Clean(dir)
	if err := f.mkdirAll(dir); err != nil {
		return err
	}
	parent := f.lookup(dir)
	if !parent.canEdit {
		return fs.ErrPermission
	}
	parent.kids[base] = &fnode{name: base, dir: true, mode: fs.ModeDir | 0o771, mtime: f.clock(), kids: map[string]*fnode{}, canEdit: true}
	return nil
}

// Mkdir creates directory p; its parent must exist.
func (f *FS) Mkdir(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := Clean(p)
	if f.lookup(cp) != nil {
		return pathErr("mkdir", p, fs.ErrExist)
	}
	dir, _ := path.Split(cp)
	parent := f.lookup(path.Clean(dir))
	if parent == nil || !parent.dir {
		return pathErr("mkdir", p, fs.ErrNotExist)
	}
	if !parent.canEdit {
		return pathErr("mkdir", p, fs.ErrPermission)
	}
	return f.mkdirAll(cp)
}

// Remove deletes file p, or directory p with everything in it when
// recursive is true (an empty directory needs no recursive flag).
func (f *FS) Remove(p string, recursive bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := Clean(p)
	dir, base := path.Split(cp)
	parent := f.lookup(path.Clean(dir))
	n := f.lookup(cp)
	if n == nil || parent == nil {
		return pathErr("remove", p, fs.ErrNotExist)
	}
	if !parent.canEdit {
		return pathErr("remove", p, fs.ErrPermission)
	}
	if n.dir && len(n.kids) > 0 && !recursive {
		return pathErr("remove", p, fs.ErrExist)
	}
	delete(parent.kids, base)
	return nil
}

// Touch creates an empty file p or updates its modification time.
func (f *FS) Touch(p string) error {
	f.mu.Lock()
	n := f.lookup(Clean(p))
	if n != nil {
		n.mtime = f.clock()
		f.mu.Unlock()
		return nil
	}
	f.mu.Unlock()
	return f.write(p, nil, 0, false, true)
}

// SetModTime sets the modification time of p, as adb push does after
// writing a file.
func (f *FS) SetModTime(p string, t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.lookup(Clean(p))
	if n == nil {
		return pathErr("chtimes", p, fs.ErrNotExist)
	}
	n.mtime = t
	return nil
}
