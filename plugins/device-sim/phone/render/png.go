package render

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/adler32"
	"hash/crc32"
	"image"
	"io"
	"sync"
)

// The standard library's PNG encoder tries five filters on every row, which
// costs most of the time for a 1080×2400 frame. Phone screens are flat
// colours and anti-aliased text, so one cheap filter choice per row (Up when
// the row repeats the one above, Sub otherwise) compresses about as well
// at a fraction of the cost. Opaque RGBA frames take this path; anything
// else goes through image/png.

type pngWriter struct {
	fw      *flate.Writer
	bw      *bufio.Writer
	chunk   chunkWriter
	cur     []byte // the row as RGB
	filtbuf []byte // the filtered row
}

var pngWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(io.Discard, flate.BestSpeed)
	pw := &pngWriter{fw: fw}
	pw.bw = bufio.NewWriterSize(&pw.chunk, 64<<10)
	return pw
}}

// chunkWriter turns everything written to it into IDAT chunks.
type chunkWriter struct {
	w   io.Writer
	err error
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.err = writeChunk(c.w, "IDAT", p)
	return len(p), c.err
}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:8])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{hdr[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write png %s: %w", typ, err)
		}
	}
	return nil
}

// EncodeRGB writes m as an 8-bit RGB PNG, ignoring alpha: the fast path
// for frames known to be opaque, such as every Canvas.
func EncodeRGB(w io.Writer, m *image.RGBA) error { return encodeRGB(w, m) }

func encodeRGB(w io.Writer, m *image.RGBA) error {
	b := m.Bounds()
	wd, ht := b.Dx(), b.Dy()
	if _, err := io.WriteString(w, "\x89PNG\r\n\x1a\n"); err != nil {
		return fmt.Errorf("write png signature: %w", err)
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(wd))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(ht))
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	if err := writeChunk(w, "IHDR", ihdr[:]); err != nil {
		return err
	}
	pw := pngWriters.Get().(*pngWriter)
	defer pngWriters.Put(pw)
	pw.chunk = chunkWriter{w: w}
	pw.bw.Reset(&pw.chunk)
	// zlib stream: header, deflate data, Adler-32 of the raw data.
	if _, err := pw.bw.Write([]byte{0x78, 0x01}); err != nil {
		return fmt.Errorf("write zlib header: %w", err)
	}
	pw.fw.Reset(pw.bw)
	var adler hash.Hash32 = adler32.New()
	n := 3 * wd
	if cap(pw.cur) < n+1 {
		pw.cur, pw.filtbuf = make([]byte, n+1), make([]byte, n+1)
	}
	cur, out := pw.cur[:n+1], pw.filtbuf[:n+1]
	var prevRow []byte
	for y := 0; y < ht; y++ {
		off := m.PixOffset(b.Min.X, b.Min.Y+y)
		row := m.Pix[off : off+4*wd]
		if prevRow != nil && bytes.Equal(row, prevRow) {
			out[0] = 2 // Up: the row repeats, all zeros
			clear(out[1:])
		} else {
			for x, j := 0, 1; x < wd; x, j = x+1, j+3 {
				cur[j], cur[j+1], cur[j+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
			out[0] = 1 // Sub
			copy(out[1:4], cur[1:4])
			for i := 4; i <= n; i++ {
				out[i] = cur[i] - cur[i-3]
			}
		}
		prevRow = row
		adler.Write(out)
		if _, err := pw.fw.Write(out); err != nil {
			return fmt.Errorf("deflate png row: %w", err)
		}
	}
	if err := pw.fw.Close(); err != nil {
		return fmt.Errorf("finish deflate: %w", err)
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], adler.Sum32())
	if _, err := pw.bw.Write(sum[:]); err != nil {
		return fmt.Errorf("write adler32: %w", err)
	}
	if err := pw.bw.Flush(); err != nil {
		return fmt.Errorf("flush png data: %w", err)
	}
	if pw.chunk.err != nil {
		return pw.chunk.err
	}
	return writeChunk(w, "IEND", nil)
}
