package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// FontPathEnv names an environment variable that, when set, is tried first
// as the CJK font file (TrueType, OpenType or a .ttc collection). The value
// "none" disables CJK fonts, to see what a machine without one renders.
const FontPathEnv = "CLOUDPHONE_CJK_FONT"

// CJKFontPaths lists the font files tried, in order, for Chinese text. The
// first that exists and parses wins. Debian's fonts-wqy-microhei comes first.
var CJKFontPaths = []string{
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/arphic/uming.ttc",
	"/System/Library/Fonts/PingFang.ttc",
	"/System/Library/Fonts/STHeiti Light.ttc",
	"C:\\Windows\\Fonts\\msyh.ttc",
}

// glyph is one rasterised rune at one pixel size, drawn with its origin
// (the pen position on the baseline) at (0,0).
type glyph struct {
	mask    *image.Alpha // nil for blank glyphs such as space
	off     image.Point  // mask's top-left relative to the origin
	advance int          // pixels
	tofu    bool         // no font has the rune: draw a placeholder box
}

type glyphKey struct {
	r    rune
	size int
}

// fontSet is the process-wide set of parsed fonts: parsed once, shared by all
// phones. Faces are not safe for concurrent use, so rasterising a glyph that
// is not yet cached happens under mu; cached glyphs are read under an RLock.
type fontSet struct {
	fonts  []*sfnt.Font // in fallback order
	source string       // the CJK font file, "" when none was found

	mu     sync.RWMutex
	faces  map[int][]font.Face // size -> one face per font
	glyphs map[glyphKey]*glyph
	bytes  int // mask bytes held by glyphs
	buf    sfnt.Buffer
}

// The glyph cache is bounded by entries and by mask bytes; when either
// limit is reached it is cleared and refills with what is drawn next.
const (
	maxGlyphs     = 12000
	maxGlyphBytes = 24 << 20
)

var (
	fontsOnce sync.Once
	fonts     *fontSet
)

func loadFonts() *fontSet {
	fontsOnce.Do(func() {
		fs := &fontSet{faces: map[int][]font.Face{}, glyphs: map[glyphKey]*glyph{}}
		paths := CJKFontPaths
		switch env := os.Getenv(FontPathEnv); env {
		case "":
		case "none":
			paths = nil // Go fonts only: CJK runes become boxes
		default:
			paths = append([]string{env}, paths...)
		}
		for _, p := range paths {
			f, err := parseFontFile(p)
			if err != nil {
				continue
			}
			fs.fonts = append(fs.fonts, f)
			fs.source = p
			break
		}
		if f, err := opentype.Parse(goregular.TTF); err == nil {
			fs.fonts = append(fs.fonts, f)
		}
		fonts = fs
	})
	return fonts
}

func parseFontFile(path string) (*sfnt.Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read font: %w", err)
	}
	if c, err := opentype.ParseCollection(data); err == nil && c.NumFonts() > 0 {
		if f, err := c.Font(0); err == nil {
			return f, nil
		}
	}
	f, err := opentype.Parse(data)
	if err == nil {
		return f, nil
	}
	// Some fonts (wqy-microhei.ttc among them) place tables at offsets that
	// are not 4-byte aligned, which package sfnt rejects. Copy font 0 into a
	// fresh, aligned single-font file and parse that.
	aligned, aerr := realign(data)
	if aerr != nil {
		return nil, fmt.Errorf("parse font %s: %w", path, err)
	}
	f, err = opentype.Parse(aligned)
	if err != nil {
		return nil, fmt.Errorf("parse realigned font %s: %w", path, err)
	}
	return f, nil
}

// realign rewrites the first font of a TrueType file or collection so that
// every table starts on a 4-byte boundary.
func realign(data []byte) ([]byte, error) {
	u32 := func(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
	u16 := func(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
	off := 0
	if len(data) >= 16 && string(data[:4]) == "ttcf" {
		off = int(u32(data[12:16]))
	}
	if off+12 > len(data) {
		return nil, errors.New("font header out of range")
	}
	n := int(u16(data[off+4:]))
	dir := off + 12
	if dir+16*n > len(data) {
		return nil, errors.New("font table directory out of range")
	}
	out := make([]byte, 12+16*n, len(data))
	copy(out, data[off:off+12])
	for i := 0; i < n; i++ {
		rec := data[dir+16*i : dir+16*i+16]
		o, l := int(u32(rec[8:12])), int(u32(rec[12:16]))
		if o < 0 || l < 0 || o+l > len(data) {
			return nil, errors.New("font table out of range")
		}
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		newRec := out[12+16*i : 12+16*i+16]
		copy(newRec, rec)
		binary.BigEndian.PutUint32(newRec[8:12], uint32(len(out)))
		out = append(out, data[o:o+l]...)
	}
	return out, nil
}

// FontSource reports the CJK font file in use, or "" when none was found and
// Chinese characters are drawn as placeholder boxes.
func FontSource() string { return loadFonts().source }

// HasCJK reports whether a CJK font was found.
func HasCJK() bool { return FontSource() != "" }

func (fs *fontSet) glyph(r rune, size int) *glyph {
	k := glyphKey{r, size}
	fs.mu.RLock()
	g := fs.glyphs[k]
	fs.mu.RUnlock()
	if g != nil {
		return g
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if g := fs.glyphs[k]; g != nil {
		return g
	}
	if len(fs.glyphs) >= maxGlyphs || fs.bytes >= maxGlyphBytes {
		fs.glyphs, fs.bytes = map[glyphKey]*glyph{}, 0
	}
	g = fs.rasterize(r, size)
	fs.glyphs[k] = g
	if g.mask != nil {
		fs.bytes += len(g.mask.Pix)
	}
	return g
}

// rasterize renders r with the first font that has it. Called with mu held.
func (fs *fontSet) rasterize(r rune, size int) *glyph {
	faces := fs.faces[size]
	if faces == nil {
		for _, f := range fs.fonts {
			face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingNone})
			if err != nil {
				face = nil
			}
			faces = append(faces, face)
		}
		fs.faces[size] = faces
	}
	for i, f := range fs.fonts {
		idx, err := f.GlyphIndex(&fs.buf, r)
		if err != nil || idx == 0 || faces[i] == nil {
			continue
		}
		dr, mask, mp, adv, ok := faces[i].Glyph(fixed.Point26_6{}, r)
		if !ok {
			continue
		}
		g := &glyph{advance: adv.Round(), off: dr.Min}
		if !dr.Empty() && mask != nil {
			a := image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))
			draw.Draw(a, a.Bounds(), mask, mp, draw.Src)
			g.mask = a
		}
		return g
	}
	if r == ' ' || r == '\u3000' {
		return &glyph{advance: size / 3}
	}
	return &glyph{advance: size, tofu: true}
}

// Measure returns the advance width in pixels of s drawn at size px.
func Measure(s string, size int) int {
	if size <= 0 {
		return 0
	}
	fs := loadFonts()
	w := 0
	for _, r := range s {
		w += fs.glyph(r, size).advance
	}
	return w
}

// Advance returns the advance width in pixels of r drawn at size px.
func Advance(r rune, size int) int {
	if size <= 0 {
		return 0
	}
	return loadFonts().glyph(r, size).advance
}
