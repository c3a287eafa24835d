package fleet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Exit statuses the Handler reports when a command did not finish.
const (
	// exitDropped is sent (if anything still can be) when a fault dropped
	// the connection.
	exitDropped = 255
	// exitCanceled is the status of a command cut short by its stream
	// closing, as a shell killed by SIGINT reports.
	exitCanceled = 130
)

// Handler serves one phone.Phone as an adbd.Handler.
type Handler struct {
	Phone *phone.Phone
	// Drop closes the host connection whose remote address is given; the
	// Handler calls it when a fault asks for the connection to drop. Nil
	// ignores such faults (the command just fails).
	Drop func(remote string)
}

// NewHandler returns a Handler for p that drops no connection.
func NewHandler(p *phone.Phone) *Handler { return &Handler{Phone: p} }

// Banner implements adbd.Handler with the phone's ro.product properties.
func (h *Handler) Banner() wire.Banner {
	b := h.Phone.Banner()
	return wire.Banner{
		Product: b["ro.product.name"],
		Model:   b["ro.product.model"],
		Device:  b["ro.product.device"],
	}
}

// Shell implements adbd.Handler by running cmd on the phone.
func (h *Handler) Shell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	code, err := h.Phone.Run(ctx, cmd, stdin, stdout, stderr)
	switch {
	case errors.Is(err, phone.ErrDropConnection):
		if s, ok := adbd.ShellInfo(ctx); ok && h.Drop != nil {
			h.Drop(s.Remote)
		}
		return exitDropped
	case err != nil:
		return exitCanceled
	}
	return code & 0xff
}

// FS implements adbd.Handler with the phone's in-memory storage.
func (h *Handler) FS() adbd.FileSystem { return phoneFS{h.Phone.FS()} }

// Reboot implements adbd.Rebooter: the phone resets its world and boots;
// the server then drops the connection.
func (h *Handler) Reboot(_ context.Context, _ string) error {
	h.Phone.Reboot()
	return nil
}

// phoneFS adapts phone.FS to adbd.FileSystem. Its errors wrap the io/fs
// sentinels, which adbd turns into the right errno.
type phoneFS struct{ fs *phone.FS }

func toWire(fi phone.FileInfo) wire.FileInfo {
	return wire.FileInfo{Name: fi.Name, Mode: fi.Mode, Size: fi.Size, ModTime: fi.ModTime, UID: 2000, GID: 1015}
}

func (p phoneFS) Stat(_ context.Context, path string) (wire.FileInfo, error) {
	fi, err := p.fs.Stat(path)
	if err != nil {
		return wire.FileInfo{}, err
	}
	w := toWire(fi)
	w.Name = ""
	return w, nil
}

func (p phoneFS) List(_ context.Context, path string) ([]wire.FileInfo, error) {
	list, err := p.fs.List(path)
	if err != nil {
		return nil, err
	}
	out := make([]wire.FileInfo, len(list))
	for i, fi := range list {
		out[i] = toWire(fi)
	}
	return out, nil
}

func (p phoneFS) Open(_ context.Context, path string) (io.ReadCloser, error) {
	data, err := p.fs.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (p phoneFS) Create(_ context.Context, path string, mode fs.FileMode) (adbd.FileWriter, error) {
	// Fail early on paths that cannot be written (read-only system
	// directories, a directory in the way), as adbd does before DATA.
	if fi, err := p.fs.Stat(path); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	return &fileWriter{fs: p.fs, path: path, mode: mode}, nil
}

// fileWriter buffers a pushed file and writes it at Commit, so a partial
// push never becomes visible.
type fileWriter struct {
	fs   *phone.FS
	path string
	mode fs.FileMode
	buf  bytes.Buffer
}

func (w *fileWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }

func (w *fileWriter) Commit(time.Time) error {
	err := w.fs.WriteFile(w.path, w.buf.Bytes(), w.mode.Perm())
	w.buf = bytes.Buffer{}
	return err
}

func (w *fileWriter) Abort() { w.buf = bytes.Buffer{} }

// conns tracks a phone's open host connections by remote address, so that
// a drop fault can close the one it happened on.
type conns struct {
	mu sync.Mutex
	m  map[string]net.Conn
}

func (c *conns) add(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]net.Conn{}
	}
	c.m[conn.RemoteAddr().String()] = conn
}

func (c *conns) remove(conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := conn.RemoteAddr().String()
	if c.m[k] == conn {
		delete(c.m, k)
	}
}

// drop closes the connection from remote, if it is still open.
func (c *conns) drop(remote string) {
	c.mu.Lock()
	conn := c.m[remote]
	c.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
}

func (c *conns) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// trackListener registers every accepted connection in set.
type trackListener struct {
	net.Listener
	set *conns
}

func (l trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.set.add(c)
	return &trackedConn{Conn: c, set: l.set}, nil
}

type trackedConn struct {
	net.Conn
	set  *conns
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.set.remove(c.Conn) })
	return c.Conn.Close()
}

// Interface guards.
var (
	_ adbd.Handler    = (*Handler)(nil)
	_ adbd.Rebooter   = (*Handler)(nil)
	_ adbd.FileSystem = phoneFS{}
)
