package adbd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

var errSyncQuit = errors.New("adbd: sync quit")

// serveSync runs the sync: protocol on rw until QUIT, EOF or an error.
// A malformed request ends the stream with a FAIL.
func serveSync(ctx context.Context, fsys FileSystem, rw io.ReadWriter) error {
	for {
		req, err := wire.ReadSyncRequest(rw)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, wire.ErrSyncProtocol) {
				_ = sendFail(rw, err.Error())
			}
			return err
		}
		if err := syncOne(ctx, fsys, rw, req); err != nil {
			if errors.Is(err, errSyncQuit) {
				return nil
			}
			return err
		}
	}
}

func syncOne(ctx context.Context, fsys FileSystem, rw io.ReadWriter, req wire.SyncRequest) error {
	path := string(req.Data)
	switch req.ID {
	case wire.SyncSTAT:
		fi, err := fsys.Stat(ctx, path)
		if err != nil {
			fi = wire.FileInfo{}
		}
		return write(rw, wire.AppendStat1(nil, fi))
	case wire.SyncSTA2, wire.SyncLST2:
		fi, err := fsys.Stat(ctx, path)
		return write(rw, wire.AppendStat2(nil, req.ID, wire.ErrnoOf(err), fi))
	case wire.SyncLIST, wire.SyncLIS2:
		return syncList(ctx, fsys, rw, path, req.ID == wire.SyncLIS2)
	case wire.SyncSEND:
		return syncSend(ctx, fsys, rw, path)
	case wire.SyncRECV:
		return syncRecv(ctx, fsys, rw, path)
	case wire.SyncQUIT:
		return errSyncQuit
	}
	// DATA or DONE outside a SEND.
	err := fmt.Errorf("%w: unexpected %s", wire.ErrSyncProtocol, req.ID)
	_ = sendFail(rw, err.Error())
	return err
}

func syncList(ctx context.Context, fsys FileSystem, w io.Writer, path string, v2 bool) error {
	entries, err := fsys.List(ctx, path)
	if err != nil {
		entries = nil // adbd answers a failed LIST with an empty listing
	}
	var buf []byte
	for _, e := range entries {
		if len(e.Name) > 255 || e.Name == "" {
			continue
		}
		if v2 {
			buf = wire.AppendDent2(buf, e)
		} else {
			buf = wire.AppendDent1(buf, e)
		}
		if len(buf) >= 32*1024 {
			if err := write(w, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return write(w, wire.AppendListDone(buf, v2))
}

func syncSend(ctx context.Context, fsys FileSystem, rw io.ReadWriter, spec string) error {
	path, modeStr, ok := cutLast(spec, ",")
	mode := fs.FileMode(0o644)
	if ok {
		m, err := strconv.ParseUint(modeStr, 10, 32)
		if err != nil {
			return failAndStop(rw, fmt.Errorf("%w: bad SEND mode %q", wire.ErrSyncProtocol, modeStr))
		}
		mode = wire.GoMode(uint32(m))
	} else {
		path = spec
	}
	var openErr error
	fw, err := fsys.Create(ctx, path, mode)
	if err != nil {
		openErr = fmt.Errorf("couldn't create file: %s", errText(err))
	}
	for {
		req, err := wire.ReadSyncRequest(rw)
		if err != nil {
			if fw != nil {
				fw.Abort()
			}
			if errors.Is(err, wire.ErrSyncProtocol) {
				_ = sendFail(rw, err.Error())
			}
			return err
		}
		switch req.ID {
		case wire.SyncDATA:
			if fw != nil && openErr == nil {
				if _, err := fw.Write(req.Data); err != nil {
					openErr = fmt.Errorf("write failed: %s", errText(err))
					fw.Abort()
					fw = nil
				}
			}
		case wire.SyncDONE:
			if openErr == nil {
				if err := fw.Commit(time.Unix(int64(req.Arg), 0)); err != nil {
					openErr = fmt.Errorf("write failed: %s", errText(err))
				}
			}
			if openErr != nil {
				return sendFail(rw, openErr.Error())
			}
			return write(rw, wire.AppendSyncMsg(nil, wire.SyncOKAY, 0, nil))
		default:
			if fw != nil {
				fw.Abort()
			}
			return failAndStop(rw, fmt.Errorf("%w: %s during SEND", wire.ErrSyncProtocol, req.ID))
		}
	}
}

func syncRecv(ctx context.Context, fsys FileSystem, w io.Writer, path string) error {
	f, err := fsys.Open(ctx, path)
	if err != nil {
		return sendFail(w, "open failed: "+errText(err))
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, 8+wire.SyncDataMax)
	for {
		n, err := io.ReadFull(f, buf[8:])
		if n > 0 {
			msg := wire.AppendSyncMsg(buf[:0], wire.SyncDATA, uint32(n), nil)
			if err := write(w, msg[:8+n]); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return sendFail(w, "read failed: "+errText(err))
		}
	}
	return write(w, wire.AppendSyncMsg(nil, wire.SyncDONE, 0, nil))
}

// failAndStop sends FAIL and returns err, ending the sync stream.
func failAndStop(w io.Writer, err error) error {
	_ = sendFail(w, err.Error())
	return err
}

func sendFail(w io.Writer, msg string) error {
	return write(w, wire.AppendSyncMsg(nil, wire.SyncFAIL, uint32(len(msg)), []byte(msg)))
}

func write(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

// errText describes err like strerror when it is a file system error.
func errText(err error) string {
	var e wire.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	switch no := wire.ErrnoOf(err); no {
	case wire.ENOENT, wire.EACCES, wire.EEXIST, wire.EINVAL:
		return no.Error()
	}
	return err.Error()
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
