package adb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Device is the per-device API. *Conn (a direct, persistent connection)
// and *ServerDevice (through the adb server, one socket per call) both
// implement it, so a backend can take either.
type Device interface {
	// OpenStream opens a raw stream to an adbd service.
	OpenStream(ctx context.Context, service string) (io.ReadWriteCloser, error)
	// Features returns the device's protocol features.
	Features(ctx context.Context) ([]string, error)
	// Shell runs cmd and collects its output. With shell_v2 stdout and
	// stderr are separate and exit is the command's status; without it
	// stderr is merged into stdout and exit is 0, as with adb.
	Shell(ctx context.Context, cmd string) (stdout, stderr []byte, exit int, err error)
	// RunShell runs cmd streaming stdin (may be nil) and output. stdin is
	// copied by a goroutine until it ends; an stdin that never ends keeps
	// that goroutine blocked in its Read after RunShell returns. An empty
	// cmd starts an interactive session reading commands from stdin.
	RunShell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (exit int, err error)
	// ExecOut runs cmd with exec: (raw bytes, no terminal mangling) and
	// returns its output, as `adb exec-out`.
	ExecOut(ctx context.Context, cmd string) ([]byte, error)
	// Push writes r to remotePath with the given permissions and mtime.
	Push(ctx context.Context, r io.Reader, remotePath string, mode fs.FileMode, mtime time.Time) error
	// Pull copies remotePath to w.
	Pull(ctx context.Context, remotePath string, w io.Writer) error
	// Stat describes a remote file; a missing file is an error matching
	// fs.ErrNotExist.
	Stat(ctx context.Context, path string) (FileInfo, error)
	// List lists a remote directory.
	List(ctx context.Context, path string) ([]FileInfo, error)
	// Reboot reboots the device into target ("" for a normal boot). The
	// device drops its connections: a *Conn is dead afterwards and must be
	// dialled again once the device is back.
	Reboot(ctx context.Context, target string) error
}

// streamOpener is what the shared implementations below need.
type streamOpener interface {
	OpenStream(ctx context.Context, service string) (io.ReadWriteCloser, error)
	Features(ctx context.Context) ([]string, error)
}

// Shell implements Device.
func (c *Conn) Shell(ctx context.Context, cmd string) ([]byte, []byte, int, error) {
	return shell(ctx, c, cmd)
}

// RunShell implements Device.
func (c *Conn) RunShell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return runShell(ctx, c, cmd, stdin, stdout, stderr)
}

// ExecOut implements Device.
func (c *Conn) ExecOut(ctx context.Context, cmd string) ([]byte, error) { return execOut(ctx, c, cmd) }

// Push implements Device.
func (c *Conn) Push(ctx context.Context, r io.Reader, remotePath string, mode fs.FileMode, mtime time.Time) error {
	return push(ctx, c, r, remotePath, mode, mtime)
}

// Pull implements Device.
func (c *Conn) Pull(ctx context.Context, remotePath string, w io.Writer) error {
	return pull(ctx, c, remotePath, w)
}

// Stat implements Device.
func (c *Conn) Stat(ctx context.Context, path string) (FileInfo, error) { return stat(ctx, c, path) }

// List implements Device.
func (c *Conn) List(ctx context.Context, path string) ([]FileInfo, error) { return list(ctx, c, path) }

// Reboot implements Device.
func (c *Conn) Reboot(ctx context.Context, target string) error { return reboot(ctx, c, target) }

// withStream opens service, closes the stream when ctx ends and when fn
// returns, and reports ctx's error in preference to the one fn saw.
func withStream(ctx context.Context, o streamOpener, service string, fn func(rw io.ReadWriter) error) error {
	st, err := o.OpenStream(ctx, service)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = st.Close() })
	err = fn(st)
	stop()
	_ = st.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func shell(ctx context.Context, o streamOpener, cmd string) ([]byte, []byte, int, error) {
	var out, errb bytes.Buffer
	code, err := runShell(ctx, o, cmd, nil, &out, &errb)
	return out.Bytes(), errb.Bytes(), code, err
}

func runShell(ctx context.Context, o streamOpener, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	feats, err := o.Features(ctx)
	if err != nil {
		return -1, err
	}
	if !slices.Contains(feats, wire.FeatureShell2) {
		err := withStream(ctx, o, "shell:"+cmd, func(rw io.ReadWriter) error {
			if stdin != nil {
				go func() { _, _ = io.Copy(rw, stdin) }()
			}
			_, err := io.Copy(stdout, rw)
			return err
		})
		if err != nil {
			return -1, fmt.Errorf("adb: shell %q: %w", cmd, err)
		}
		return 0, nil
	}
	code := -1
	err = withStream(ctx, o, "shell,v2,raw:"+cmd, func(rw io.ReadWriter) error {
		w := wire.NewShellWriter(rw, 0)
		if stdin == nil {
			// A fast command may have exited and closed the stream
			// already: the outcome is in the frames to read.
			_ = w.WriteFrame(wire.ShellCloseStdin, nil)
		} else {
			go func() {
				if _, err := io.Copy(w.Stream(wire.ShellStdin), stdin); err == nil {
					_ = w.WriteFrame(wire.ShellCloseStdin, nil)
				}
			}()
		}
		rd := wire.NewShellReader(rw, 0)
		for {
			id, data, err := rd.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return errors.New("stream ended without an exit status")
				}
				return err
			}
			switch id {
			case wire.ShellStdout:
				if _, err := stdout.Write(data); err != nil {
					return err
				}
			case wire.ShellStderr:
				if _, err := stderr.Write(data); err != nil {
					return err
				}
			case wire.ShellExit:
				if len(data) == 0 {
					return errors.New("empty exit frame")
				}
				code = int(data[0])
				return nil
			}
		}
	})
	if err != nil {
		return -1, fmt.Errorf("adb: shell %q: %w", cmd, err)
	}
	return code, nil
}

func execOut(ctx context.Context, o streamOpener, cmd string) ([]byte, error) {
	var out bytes.Buffer
	err := withStream(ctx, o, "exec:"+cmd, func(rw io.ReadWriter) error {
		_, err := out.ReadFrom(rw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("adb: exec %q: %w", cmd, err)
	}
	return out.Bytes(), nil
}

func reboot(ctx context.Context, o streamOpener, target string) error {
	err := withStream(ctx, o, "reboot:"+target, func(rw io.ReadWriter) error {
		_, _ = io.Copy(io.Discard, rw) // the device drops the connection
		return nil
	})
	if err != nil {
		return fmt.Errorf("adb: reboot: %w", err)
	}
	return nil
}
