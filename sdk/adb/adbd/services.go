package adbd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	"github.com/openautoglm/cloudphone/sdk/adb/internal/transport"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// resolve maps a service name to the function serving it, or nil to
// refuse it. It runs on the read loop and does no I/O.
func (s *Server) resolve(service, remote, prompt string, dropConn func()) transport.Service {
	h := s.Handler
	name, arg, _ := strings.Cut(service, ":")
	base, opts, _ := strings.Cut(name, ",")
	switch {
	case base == "shell":
		sess := Session{Service: "shell", PTY: arg == "", Remote: remote}
		for _, o := range strings.Split(opts, ",") {
			switch {
			case o == "v2":
				sess.Protocol2 = true
			case o == "raw":
				sess.PTY = false
			case o == "pty":
				sess.PTY = true
			case strings.HasPrefix(o, "TERM="):
				sess.Term = strings.TrimPrefix(o, "TERM=")
			}
		}
		return func(ctx context.Context, st *transport.Stream) {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
			if sess.Protocol2 {
				runShellV2(ctx, h, st, arg, sess.PTY, prompt)
				return
			}
			runShellV1(ctx, h, st, arg, sess.PTY, prompt)
		}
	case name == "exec":
		sess := Session{Service: "exec", Remote: remote}
		return func(ctx context.Context, st *transport.Stream) {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
			h.Shell(ctx, arg, st, st, st)
		}
	case service == "sync:":
		fsys := h.FS()
		if fsys == nil {
			return nil
		}
		return func(ctx context.Context, st *transport.Stream) {
			if err := serveSync(ctx, fsys, st); err != nil {
				s.logger().Debug("adbd: sync ended", "remote", remote, "err", err)
			}
		}
	case name == "reboot":
		rb, ok := h.(Rebooter)
		if !ok {
			return nil
		}
		return func(ctx context.Context, st *transport.Stream) {
			if err := rb.Reboot(ctx, arg); err != nil {
				_, _ = io.WriteString(st, "reboot failed: "+err.Error()+"\n")
				return
			}
			_ = st.Close()
			dropConn()
		}
	}
	if o, ok := h.(ServiceOpener); ok {
		if fn := o.OpenService(service); fn != nil {
			return func(ctx context.Context, st *transport.Stream) { fn(ctx, st) }
		}
	}
	return nil
}

// runShellV1 serves "shell:cmd": raw bytes both ways, stderr merged, no
// exit status.
func runShellV1(ctx context.Context, h Handler, st *transport.Stream, cmd string, pty bool, prompt string) {
	var out io.Writer = st
	if pty {
		out = crlfWriter{st}
	}
	runCommand(ctx, h, cmd, st, out, out, pty, prompt)
}

// runShellV2 serves "shell,v2,…:cmd": framed stdin/stdout/stderr and an
// exit frame.
func runShellV2(ctx context.Context, h Handler, st *transport.Stream, cmd string, pty bool, prompt string) {
	frag := int(st.MaxData()) - 5
	w := wire.NewShellWriter(st, min(frag, 256*1024))
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Go(func() {
		rd := wire.NewShellReader(st, 16*1024)
		for {
			id, data, err := rd.Next()
			if err != nil {
				_ = pw.Close()
				return
			}
			switch id {
			case wire.ShellStdin:
				if _, err := pw.Write(data); err != nil {
					// The command no longer reads stdin: keep draining
					// frames so the exit frame can still be sent.
					continue
				}
			case wire.ShellCloseStdin:
				_ = pw.Close()
			}
		}
	})
	var stdout, stderr io.Writer = w.Stream(wire.ShellStdout), w.Stream(wire.ShellStderr)
	if pty {
		stdout = crlfWriter{stdout}
		stderr = stdout
	}
	code := runCommand(ctx, h, cmd, pr, stdout, stderr, pty, prompt)
	_ = pr.Close()
	_ = w.WriteFrame(wire.ShellExit, []byte{byte(code)})
	_ = st.Close()
	wg.Wait()
}

// crlfWriter turns "\n" into "\r\n", as a terminal's onlcr does.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return c.w.Write(p)
	}
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
