package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ShellID is the first byte of a shell protocol (shell_v2) frame.
type ShellID byte

// Shell protocol frame ids.
const (
	ShellStdin       ShellID = 0
	ShellStdout      ShellID = 1
	ShellStderr      ShellID = 2
	ShellExit        ShellID = 3 // one byte: the exit code
	ShellCloseStdin  ShellID = 4
	ShellWindowSize  ShellID = 5 // "rowsxcols,xpixelsxypixels"
	ShellInvalid     ShellID = 255
	shellHeaderSize          = 5
	defaultShellFrag         = 64 * 1024
)

// ShellReader decodes shell protocol frames: 1 byte id, 4-byte little-endian
// length, data. Frames longer than its buffer are returned in pieces with
// the same id, as adb's ShellProtocol::Read does, so memory stays bounded
// whatever length a peer claims.
type ShellReader struct {
	r    io.Reader
	max  uint32
	buf  []byte
	id   ShellID
	left uint32
}

// NewShellReader returns a reader that returns at most bufSize data bytes
// per call (64 KiB when bufSize <= 0). The buffer grows to that size only
// as frames need it.
func NewShellReader(r io.Reader, bufSize int) *ShellReader {
	if bufSize <= 0 || bufSize > 1<<30 {
		bufSize = defaultShellFrag
	}
	return &ShellReader{r: r, max: uint32(bufSize)}
}

// Next returns the next frame or frame piece. The data is valid until the
// next call. It returns io.EOF when the stream ends between frames and an
// error wrapping io.ErrUnexpectedEOF inside one.
func (s *ShellReader) Next() (ShellID, []byte, error) {
	if s.left == 0 {
		var h [shellHeaderSize]byte
		if _, err := io.ReadFull(s.r, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, nil, io.EOF
			}
			return 0, nil, fmt.Errorf("adb: read shell frame header: %w", err)
		}
		s.id = ShellID(h[0])
		s.left = binary.LittleEndian.Uint32(h[1:])
		if s.left == 0 {
			return s.id, nil, nil
		}
	}
	n := min(s.max, s.left)
	if uint32(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	if _, err := io.ReadFull(s.r, s.buf[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("adb: read shell frame data: %w", err)
	}
	s.left -= n
	return s.id, s.buf[:n], nil
}

// ShellWriter encodes shell protocol frames. It is safe for concurrent
// use: each frame is written with one Write call under a lock, so stdout
// and stderr writers may share it.
type ShellWriter struct {
	mu   sync.Mutex
	w    io.Writer
	frag int
	buf  []byte
}

// NewShellWriter returns a writer that splits data into frames of at most
// frag bytes (64 KiB when frag <= 0).
func NewShellWriter(w io.Writer, frag int) *ShellWriter {
	if frag <= 0 {
		frag = defaultShellFrag
	}
	return &ShellWriter{w: w, frag: frag}
}

// WriteFrame writes data as one or more frames with the given id. Empty data
// writes one empty frame (as ShellCloseStdin needs).
func (s *ShellWriter) WriteFrame(id ShellID, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		n := min(len(data), s.frag)
		s.buf = append(s.buf[:0], byte(id))
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(n))
		s.buf = append(s.buf, data[:n]...)
		if _, err := s.w.Write(s.buf); err != nil {
			return fmt.Errorf("adb: write shell frame: %w", err)
		}
		data = data[n:]
		if len(data) == 0 {
			return nil
		}
	}
}

// Stream returns an io.Writer that wraps everything written to it in frames
// with the given id.
func (s *ShellWriter) Stream(id ShellID) io.Writer { return shellStream{s, id} }

type shellStream struct {
	w  *ShellWriter
	id ShellID
}

func (s shellStream) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.w.WriteFrame(s.id, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
