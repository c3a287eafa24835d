package adb

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync"
	"time"
)

// Redialer is a Device that keeps one persistent connection to an adbd,
// dialling on first use and again whenever the connection has dropped
// (a phone rebooted, a simulated fault, a network blip). A call that was
// in flight when the connection died fails; the next call redials. It is
// safe for concurrent use.
type Redialer struct {
	addr string
	opts *DialOptions

	mu sync.Mutex // held while dialling, so only one dial runs
	c  *Conn
}

var _ Device = (*Redialer)(nil)

// NewRedialer returns a Redialer for the adbd at addr; nothing is dialled
// until the first call.
func NewRedialer(addr string, opts *DialOptions) *Redialer {
	return &Redialer{addr: addr, opts: opts}
}

// Conn returns the live connection, dialling a new one if there is none.
func (r *Redialer) Conn(ctx context.Context) (*Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		select {
		case <-r.c.Done():
			_ = r.c.Close()
			r.c = nil
		default:
			return r.c, nil
		}
	}
	c, err := Dial(ctx, r.addr, r.opts)
	if err != nil {
		return nil, err
	}
	r.c = c
	return c, nil
}

// Close closes the current connection, if any. The Redialer stays usable:
// a later call dials again.
func (r *Redialer) Close() error {
	r.mu.Lock()
	c := r.c
	r.c = nil
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	err := c.Close()
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// OpenStream implements Device. An OPEN that fails because the connection
// had just died is retried once on a fresh connection (nothing ran on the
// device).
func (r *Redialer) OpenStream(ctx context.Context, service string) (io.ReadWriteCloser, error) {
	c, err := r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.OpenStream(ctx, service)
	if err == nil || ctx.Err() != nil {
		return s, err
	}
	select {
	case <-c.Done():
	default:
		return nil, err
	}
	if c, err = r.Conn(ctx); err != nil {
		return nil, err
	}
	return c.OpenStream(ctx, service)
}

// Features implements Device.
func (r *Redialer) Features(ctx context.Context) ([]string, error) {
	c, err := r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return c.Banner().Features, nil
}

// Shell implements Device.
func (r *Redialer) Shell(ctx context.Context, cmd string) ([]byte, []byte, int, error) {
	return shell(ctx, r, cmd)
}

// RunShell implements Device.
func (r *Redialer) RunShell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return runShell(ctx, r, cmd, stdin, stdout, stderr)
}

// ExecOut implements Device.
func (r *Redialer) ExecOut(ctx context.Context, cmd string) ([]byte, error) {
	return execOut(ctx, r, cmd)
}

// Push implements Device.
func (r *Redialer) Push(ctx context.Context, rd io.Reader, remotePath string, mode fs.FileMode, mtime time.Time) error {
	return push(ctx, r, rd, remotePath, mode, mtime)
}

// Pull implements Device.
func (r *Redialer) Pull(ctx context.Context, remotePath string, w io.Writer) error {
	return pull(ctx, r, remotePath, w)
}

// Stat implements Device.
func (r *Redialer) Stat(ctx context.Context, path string) (FileInfo, error) {
	return stat(ctx, r, path)
}

// List implements Device.
func (r *Redialer) List(ctx context.Context, path string) ([]FileInfo, error) {
	return list(ctx, r, path)
}

// Reboot implements Device.
func (r *Redialer) Reboot(ctx context.Context, target string) error { return reboot(ctx, r, target) }
