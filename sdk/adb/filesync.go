package adb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// withSync runs fn on a fresh sync: stream and ends it with QUIT.
func withSync(ctx context.Context, o streamOpener, fn func(rw io.ReadWriter, feats []string) error) error {
	feats, err := o.Features(ctx)
	if err != nil {
		return err
	}
	return withStream(ctx, o, "sync:", func(rw io.ReadWriter) error {
		if err := fn(rw, feats); err != nil {
			return err
		}
		_, err := rw.Write(wire.AppendSyncMsg(nil, wire.SyncQUIT, 0, nil))
		return err
	})
}

func request(w io.Writer, id wire.SyncID, path string) error {
	if len(path) > wire.SyncPathMax {
		return fmt.Errorf("adb: path too long (%d bytes)", len(path))
	}
	_, err := w.Write(wire.AppendSyncMsg(nil, id, uint32(len(path)), []byte(path)))
	return err
}

func stat(ctx context.Context, o streamOpener, path string) (FileInfo, error) {
	var fi FileInfo
	err := withSync(ctx, o, func(rw io.ReadWriter, feats []string) error {
		v2 := slices.Contains(feats, wire.FeatureStat2)
		id := wire.SyncSTAT
		if v2 {
			id = wire.SyncSTA2
		}
		if err := request(rw, id, path); err != nil {
			return err
		}
		var err error
		fi, err = wire.ReadStat(rw, v2)
		return err
	})
	if err != nil {
		return FileInfo{}, fmt.Errorf("adb: stat %s: %w", path, err)
	}
	return fi, nil
}

func list(ctx context.Context, o streamOpener, path string) ([]FileInfo, error) {
	var out []FileInfo
	err := withSync(ctx, o, func(rw io.ReadWriter, feats []string) error {
		v2 := slices.Contains(feats, wire.FeatureLs2)
		id := wire.SyncLIST
		if v2 {
			id = wire.SyncLIS2
		}
		if err := request(rw, id, path); err != nil {
			return err
		}
		for {
			fi, err := wire.ReadDent(rw, v2)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if fi.Name != "." && fi.Name != ".." {
				out = append(out, fi)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("adb: list %s: %w", path, err)
	}
	return out, nil
}

func push(ctx context.Context, o streamOpener, r io.Reader, remotePath string, mode fs.FileMode, mtime time.Time) error {
	if mtime.IsZero() {
		mtime = time.Now()
	}
	err := withSync(ctx, o, func(rw io.ReadWriter, _ []string) error {
		spec := remotePath + "," + strconv.FormatUint(uint64(wire.UnixMode(mode)), 10)
		if err := request(rw, wire.SyncSEND, spec); err != nil {
			return err
		}
		werr := sendData(rw, r, mtime)
		if errors.Is(werr, errLocalRead) {
			return werr
		}
		// Read the verdict even after a write error: the device may have
		// sent FAIL and closed the stream.
		id, _, err := wire.ReadSyncReply(rw, nil)
		if err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		if id != wire.SyncOKAY {
			return fmt.Errorf("%w: %s after SEND", wire.ErrSyncProtocol, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("adb: push %s: %w", remotePath, err)
	}
	return nil
}

var errLocalRead = errors.New("adb: read local data")

// sendData sends r as DATA chunks then DONE.
func sendData(w io.Writer, r io.Reader, mtime time.Time) error {
	buf := make([]byte, 8+wire.SyncDataMax)
	for {
		n, rerr := io.ReadFull(r, buf[8:])
		if n > 0 {
			wire.AppendSyncMsg(buf[:0], wire.SyncDATA, uint32(n), nil)
			if _, err := w.Write(buf[:8+n]); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%w: %w", errLocalRead, rerr)
		}
	}
	_, err := w.Write(wire.AppendSyncMsg(nil, wire.SyncDONE, uint32(mtime.Unix()), nil))
	return err
}

func pull(ctx context.Context, o streamOpener, remotePath string, w io.Writer) error {
	err := withSync(ctx, o, func(rw io.ReadWriter, _ []string) error {
		if err := request(rw, wire.SyncRECV, remotePath); err != nil {
			return err
		}
		buf := make([]byte, wire.SyncDataMax)
		for {
			id, data, err := wire.ReadSyncReply(rw, buf)
			if err != nil {
				return err
			}
			switch id {
			case wire.SyncDONE:
				return nil
			case wire.SyncDATA:
				if _, err := w.Write(data); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%w: %s during RECV", wire.ErrSyncProtocol, id)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("adb: pull %s: %w", remotePath, err)
	}
	return nil
}
