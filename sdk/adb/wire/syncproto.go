package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// SyncID is the four-letter id of a sync: protocol message.
type SyncID uint32

// Sync message ids. STAT, LIST, DENT are the v1 forms; STA2/LST2 (stat_v2)
// and LIS2/DNT2 (ls_v2) carry 64-bit sizes and an errno.
const (
	SyncSTAT SyncID = 'S' | 'T'<<8 | 'A'<<16 | 'T'<<24
	SyncSTA2 SyncID = 'S' | 'T'<<8 | 'A'<<16 | '2'<<24
	SyncLST2 SyncID = 'L' | 'S'<<8 | 'T'<<16 | '2'<<24
	SyncLIST SyncID = 'L' | 'I'<<8 | 'S'<<16 | 'T'<<24
	SyncLIS2 SyncID = 'L' | 'I'<<8 | 'S'<<16 | '2'<<24
	SyncDENT SyncID = 'D' | 'E'<<8 | 'N'<<16 | 'T'<<24
	SyncDNT2 SyncID = 'D' | 'N'<<8 | 'T'<<16 | '2'<<24
	SyncSEND SyncID = 'S' | 'E'<<8 | 'N'<<16 | 'D'<<24
	SyncRECV SyncID = 'R' | 'E'<<8 | 'C'<<16 | 'V'<<24
	SyncDATA SyncID = 'D' | 'A'<<8 | 'T'<<16 | 'A'<<24
	SyncDONE SyncID = 'D' | 'O'<<8 | 'N'<<16 | 'E'<<24
	SyncOKAY SyncID = 'O' | 'K'<<8 | 'A'<<16 | 'Y'<<24
	SyncFAIL SyncID = 'F' | 'A'<<8 | 'I'<<16 | 'L'<<24
	SyncQUIT SyncID = 'Q' | 'U'<<8 | 'I'<<16 | 'T'<<24
)

// String returns the four letters of id.
func (id SyncID) String() string {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(id))
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("0x%08x", uint32(id))
		}
	}
	return string(b[:])
}

// Sync limits.
const (
	// SyncDataMax is the largest DATA chunk (64 KiB).
	SyncDataMax = 64 * 1024
	// SyncPathMax is the longest path a request may carry.
	SyncPathMax = 1024
	// SyncFailMax bounds the FAIL messages this package reads.
	SyncFailMax = 64 * 1024
	syncNameMax = 1024
	stat1Size   = 16
	stat2Size   = 72
	dent1Size   = 20
	dent2Size   = 76
)

// ErrSyncProtocol marks malformed sync messages.
var ErrSyncProtocol = errors.New("adb: sync protocol error")

// SyncRequest is a message a host sends on a sync: stream. For path
// requests (STAT, STA2, LST2, LIST, LIS2, SEND, RECV) Data is the path
// (for SEND "path,mode"); for DATA it is file content; for DONE Arg is the
// file's mtime in Unix seconds.
type SyncRequest struct {
	ID   SyncID
	Arg  uint32
	Data []byte
}

// ReadSyncRequest reads one host request. Unknown ids, paths over
// SyncPathMax and DATA over SyncDataMax are errors wrapping
// ErrSyncProtocol; nothing larger than those limits is allocated.
func ReadSyncRequest(r io.Reader) (SyncRequest, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return SyncRequest{}, io.EOF
		}
		return SyncRequest{}, fmt.Errorf("adb: read sync request: %w", err)
	}
	req := SyncRequest{ID: SyncID(binary.LittleEndian.Uint32(h[:])), Arg: binary.LittleEndian.Uint32(h[4:])}
	var limit uint32
	switch req.ID {
	case SyncSTAT, SyncSTA2, SyncLST2, SyncLIST, SyncLIS2, SyncSEND, SyncRECV:
		limit = SyncPathMax
	case SyncDATA:
		limit = SyncDataMax
	case SyncDONE, SyncQUIT:
		return req, nil
	default:
		return SyncRequest{}, fmt.Errorf("%w: unknown request %s", ErrSyncProtocol, req.ID)
	}
	if req.Arg > limit {
		return SyncRequest{}, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrSyncProtocol, req.ID, req.Arg, limit)
	}
	req.Data = make([]byte, req.Arg)
	if _, err := io.ReadFull(r, req.Data); err != nil {
		return SyncRequest{}, fmt.Errorf("adb: read sync %s: %w", req.ID, unexpected(err))
	}
	return req, nil
}

// AppendSyncMsg appends a message of id with a 32-bit argument and payload:
// for requests, requests' data and DATA/FAIL the argument is len(payload).
func AppendSyncMsg(b []byte, id SyncID, arg uint32, payload []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(id))
	b = binary.LittleEndian.AppendUint32(b, arg)
	return append(b, payload...)
}

// FileInfo describes a file on the device, as the sync protocol reports it.
type FileInfo struct {
	Name    string // base name in List; empty from Stat
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	UID     uint32 // stat_v2 and ls_v2 only
	GID     uint32
}

// IsDir reports whether fi describes a directory.
func (fi FileInfo) IsDir() bool { return fi.Mode.IsDir() }

// Unix file type bits.
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

// UnixMode converts a Go file mode to st_mode bits.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	switch {
	case m&fs.ModeDir != 0:
		u |= sIFDIR
	case m&fs.ModeSymlink != 0:
		u |= sIFLNK
	case m&fs.ModeNamedPipe != 0:
		u |= sIFIFO
	case m&fs.ModeSocket != 0:
		u |= sIFSOCK
	case m&fs.ModeCharDevice != 0:
		u |= sIFCHR
	case m&fs.ModeDevice != 0:
		u |= sIFBLK
	default:
		u |= sIFREG
	}
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// GoMode converts st_mode bits to a Go file mode.
func GoMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	switch u & sIFMT {
	case sIFDIR:
		m |= fs.ModeDir
	case sIFLNK:
		m |= fs.ModeSymlink
	case sIFIFO:
		m |= fs.ModeNamedPipe
	case sIFSOCK:
		m |= fs.ModeSocket
	case sIFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case sIFBLK:
		m |= fs.ModeDevice
	}
	if u&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if u&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if u&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// AppendStat1 appends a v1 STAT reply; a zero FileInfo means "not found".
func AppendStat1(b []byte, fi FileInfo) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(SyncSTAT))
	if fi == (FileInfo{}) {
		return append(b, make([]byte, 12)...)
	}
	b = binary.LittleEndian.AppendUint32(b, UnixMode(fi.Mode))
	b = binary.LittleEndian.AppendUint32(b, uint32(min(fi.Size, 0xffffffff)))
	return binary.LittleEndian.AppendUint32(b, uint32(unixTime(fi.ModTime)))
}

// AppendStat2 appends a STA2 or LST2 reply (id says which); with a non-zero
// errno only the error is filled in.
func AppendStat2(b []byte, id SyncID, errno Errno, fi FileInfo) []byte {
	return appendStat2Body(binary.LittleEndian.AppendUint32(b, uint32(id)), errno, fi)
}

func appendStat2Body(b []byte, errno Errno, fi FileInfo) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(errno))
	if errno != 0 {
		return append(b, make([]byte, stat2Size-8)...)
	}
	b = binary.LittleEndian.AppendUint64(b, 0) // dev
	b = binary.LittleEndian.AppendUint64(b, 0) // ino
	b = binary.LittleEndian.AppendUint32(b, UnixMode(fi.Mode))
	b = binary.LittleEndian.AppendUint32(b, 1) // nlink
	b = binary.LittleEndian.AppendUint32(b, fi.UID)
	b = binary.LittleEndian.AppendUint32(b, fi.GID)
	b = binary.LittleEndian.AppendUint64(b, uint64(max(fi.Size, 0)))
	t := uint64(unixTime(fi.ModTime))
	b = binary.LittleEndian.AppendUint64(b, t) // atime
	b = binary.LittleEndian.AppendUint64(b, t) // mtime
	return binary.LittleEndian.AppendUint64(b, t)
}

// AppendDent1 appends a v1 LIST entry.
func AppendDent1(b []byte, fi FileInfo) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(SyncDENT))
	b = binary.LittleEndian.AppendUint32(b, UnixMode(fi.Mode))
	b = binary.LittleEndian.AppendUint32(b, uint32(min(fi.Size, 0xffffffff)))
	b = binary.LittleEndian.AppendUint32(b, uint32(unixTime(fi.ModTime)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fi.Name)))
	return append(b, fi.Name...)
}

// AppendDent2 appends an ls_v2 (DNT2) entry.
func AppendDent2(b []byte, fi FileInfo) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(SyncDNT2))
	b = appendStat2Body(b, 0, fi)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fi.Name)))
	return append(b, fi.Name...)
}

// AppendListDone appends the DONE that ends a listing, padded to the size
// of an entry header as adb's client reads it (v2 selects DNT2's size).
func AppendListDone(b []byte, v2 bool) []byte {
	n := dent1Size
	if v2 {
		n = dent2Size
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(SyncDONE))
	return append(b, make([]byte, n-4)...)
}

// ReadStat reads a reply to STAT (v2 false) or STA2/LST2 (v2 true). A
// missing file is an error wrapping fs.ErrNotExist.
func ReadStat(r io.Reader, v2 bool) (FileInfo, error) {
	size := stat1Size
	if v2 {
		size = stat2Size
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return FileInfo{}, fmt.Errorf("adb: read stat reply: %w", unexpected(err))
	}
	id := SyncID(binary.LittleEndian.Uint32(b))
	if !v2 {
		if id != SyncSTAT {
			return FileInfo{}, fmt.Errorf("%w: stat reply %s", ErrSyncProtocol, id)
		}
		mode, sz, mt := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
		if mode == 0 && sz == 0 && mt == 0 {
			return FileInfo{}, Errno(2)
		}
		return FileInfo{Mode: GoMode(mode), Size: int64(sz), ModTime: time.Unix(int64(mt), 0)}, nil
	}
	if id != SyncSTA2 && id != SyncLST2 {
		return FileInfo{}, fmt.Errorf("%w: stat reply %s", ErrSyncProtocol, id)
	}
	return decodeStat2(b[4:])
}

// decodeStat2 decodes the 68 bytes after a STA2/DNT2 id.
func decodeStat2(b []byte) (FileInfo, error) {
	if e := binary.LittleEndian.Uint32(b); e != 0 {
		return FileInfo{}, Errno(e)
	}
	size := binary.LittleEndian.Uint64(b[36:])
	if size > 1<<62 {
		return FileInfo{}, fmt.Errorf("%w: size %d", ErrSyncProtocol, size)
	}
	return FileInfo{
		Mode:    GoMode(binary.LittleEndian.Uint32(b[20:])),
		UID:     binary.LittleEndian.Uint32(b[28:]),
		GID:     binary.LittleEndian.Uint32(b[32:]),
		Size:    int64(size),
		ModTime: time.Unix(int64(binary.LittleEndian.Uint64(b[52:])), 0),
	}, nil
}

// ReadDent reads one LIST (v2 false) or LIS2 entry. It returns io.EOF at
// the DONE that ends the listing.
func ReadDent(r io.Reader, v2 bool) (FileInfo, error) {
	size := dent1Size
	if v2 {
		size = dent2Size
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return FileInfo{}, fmt.Errorf("adb: read list entry: %w", unexpected(err))
	}
	id := SyncID(binary.LittleEndian.Uint32(b))
	if id == SyncDONE {
		return FileInfo{}, io.EOF
	}
	if id == SyncFAIL {
		return FileInfo{}, readFailBody(r, binary.LittleEndian.Uint32(b[4:]), b[8:])
	}
	var fi FileInfo
	if v2 {
		if id != SyncDNT2 {
			return FileInfo{}, fmt.Errorf("%w: list entry %s", ErrSyncProtocol, id)
		}
		var err error
		if fi, err = decodeStat2(b[4:]); err != nil {
			// A failed entry (e.g. lstat raced a delete): skip its name.
			fi = FileInfo{}
		}
	} else {
		if id != SyncDENT {
			return FileInfo{}, fmt.Errorf("%w: list entry %s", ErrSyncProtocol, id)
		}
		fi = FileInfo{
			Mode:    GoMode(binary.LittleEndian.Uint32(b[4:])),
			Size:    int64(binary.LittleEndian.Uint32(b[8:])),
			ModTime: time.Unix(int64(binary.LittleEndian.Uint32(b[12:])), 0),
		}
	}
	n := binary.LittleEndian.Uint32(b[size-4:])
	if n > syncNameMax {
		return FileInfo{}, fmt.Errorf("%w: name of %d bytes", ErrSyncProtocol, n)
	}
	name := make([]byte, n)
	if _, err := io.ReadFull(r, name); err != nil {
		return FileInfo{}, fmt.Errorf("adb: read list entry name: %w", unexpected(err))
	}
	fi.Name = string(name)
	return fi, nil
}

// ReadSyncReply reads one DATA, DONE, OKAY or FAIL message a device sends.
// DATA returns its payload in buf (grown as needed, at most SyncDataMax);
// FAIL returns a *SyncFailError. For DONE and OKAY the payload is empty.
func ReadSyncReply(r io.Reader, buf []byte) (SyncID, []byte, error) {
	var h [8]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("adb: read sync reply: %w", unexpected(err))
	}
	id, n := SyncID(binary.LittleEndian.Uint32(h[:])), binary.LittleEndian.Uint32(h[4:])
	switch id {
	case SyncDONE, SyncOKAY:
		return id, nil, nil
	case SyncFAIL:
		return id, nil, readFailBody(r, n, nil)
	case SyncDATA:
		if n > SyncDataMax {
			return 0, nil, fmt.Errorf("%w: DATA of %d bytes", ErrSyncProtocol, n)
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0, nil, fmt.Errorf("adb: read sync data: %w", unexpected(err))
		}
		return id, buf, nil
	}
	return 0, nil, fmt.Errorf("%w: unexpected reply %s", ErrSyncProtocol, id)
}

// SyncFailError is a FAIL message from the device.
type SyncFailError struct{ Msg string }

func (e *SyncFailError) Error() string { return "adb: device: " + e.Msg }

// readFailBody reads a FAIL message of n bytes, some of which may already
// be in have.
func readFailBody(r io.Reader, n uint32, have []byte) error {
	if n > SyncFailMax {
		return fmt.Errorf("%w: FAIL of %d bytes", ErrSyncProtocol, n)
	}
	msg := make([]byte, n)
	c := copy(msg, have)
	if _, err := io.ReadFull(r, msg[c:]); err != nil {
		return fmt.Errorf("adb: read sync failure: %w", unexpected(err))
	}
	return &SyncFailError{Msg: string(msg)}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func unixTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
