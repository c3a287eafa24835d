package render

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sync"

	"golang.org/x/image/vector"
)

// Canvas is an RGBA frame with the drawing primitives a phone screen needs.
// A Canvas is used by one goroutine at a time; get one with NewCanvas and
// hand it back with Release so the next frame reuses its pixels.
type Canvas struct {
	Img  *image.RGBA
	ras  vector.Rasterizer
	src  image.Uniform
	clip image.Rectangle // the box of the path being built
}

var canvasPools sync.Map // image.Point -> *sync.Pool

// NewCanvas returns a w×h canvas from a pool; its pixels are not cleared.
func NewCanvas(w, h int) *Canvas {
	if w <= 0 || h <= 0 {
		w, h = 1, 1
	}
	key := image.Pt(w, h)
	pv, _ := canvasPools.LoadOrStore(key, &sync.Pool{New: func() any {
		return &Canvas{Img: image.NewRGBA(image.Rect(0, 0, w, h))}
	}})
	return pv.(*sync.Pool).Get().(*Canvas)
}

// Release returns c to its pool; c must not be used afterwards.
func (c *Canvas) Release() {
	if pv, ok := canvasPools.Load(c.Img.Rect.Size()); ok {
		pv.(*sync.Pool).Put(c)
	}
}

// Fill paints r with col.
func (c *Canvas) Fill(r image.Rectangle, col color.RGBA) {
	r = r.Intersect(c.Img.Rect)
	if r.Empty() {
		return
	}
	if col.A == 0xff {
		// Fast path: write whole rows.
		row := c.Img.Pix[c.Img.PixOffset(r.Min.X, r.Min.Y) : c.Img.PixOffset(r.Max.X-1, r.Min.Y)+4]
		for i := 0; i < len(row); i += 4 {
			row[i], row[i+1], row[i+2], row[i+3] = col.R, col.G, col.B, 0xff
		}
		for y := r.Min.Y + 1; y < r.Max.Y; y++ {
			o := c.Img.PixOffset(r.Min.X, y)
			copy(c.Img.Pix[o:o+len(row)], row)
		}
		return
	}
	c.src.C = col
	draw.Draw(c.Img, r, &c.src, image.Point{}, draw.Over)
}

const kappa = 0.5523

// begin starts a vector path covering b (screen pixels), clipped to the
// canvas; it reports false when nothing of b is visible. The rasterizer
// cannot draw outside its destination, so paths are translated into the
// clipped box and points beyond it are clamped by the rasterizer.
func (c *Canvas) begin(b image.Rectangle) bool {
	c.clip = b.Intersect(c.Img.Rect)
	if c.clip.Empty() {
		return false
	}
	c.ras.Reset(c.clip.Dx(), c.clip.Dy())
	return true
}

func (c *Canvas) pt(x, y float32) (float32, float32) {
	return x - float32(c.clip.Min.X), y - float32(c.clip.Min.Y)
}

func (c *Canvas) moveTo(x, y float32) { c.ras.MoveTo(c.pt(x, y)) }
func (c *Canvas) lineTo(x, y float32) { c.ras.LineTo(c.pt(x, y)) }
func (c *Canvas) cubeTo(x1, y1, x2, y2, x3, y3 float32) {
	ax, ay := c.pt(x1, y1)
	bx, by := c.pt(x2, y2)
	cx, cy := c.pt(x3, y3)
	c.ras.CubeTo(ax, ay, bx, by, cx, cy)
}

func (c *Canvas) end(col color.RGBA) {
	c.src.C = col
	c.ras.Draw(c.Img, c.clip, &c.src, image.Point{})
}

// RoundRect paints r with col and corners of radius rad, antialiased.
func (c *Canvas) RoundRect(r image.Rectangle, rad int, col color.RGBA) {
	if rad*2 > r.Dx() {
		rad = r.Dx() / 2
	}
	if rad*2 > r.Dy() {
		rad = r.Dy() / 2
	}
	if rad <= 1 {
		c.Fill(r, col)
		return
	}
	c.Fill(image.Rect(r.Min.X+rad, r.Min.Y, r.Max.X-rad, r.Max.Y), col)
	c.Fill(image.Rect(r.Min.X, r.Min.Y+rad, r.Min.X+rad, r.Max.Y-rad), col)
	c.Fill(image.Rect(r.Max.X-rad, r.Min.Y+rad, r.Max.X, r.Max.Y-rad), col)
	f := float32(rad)
	k := f * (1 - kappa)
	corner := func(x, y int, fx, fy bool) {
		// Quarter disc whose centre is the square's inner corner.
		if !c.begin(image.Rect(x, y, x+rad, y+rad)) {
			return
		}
		m := func(px, py float32) (float32, float32) {
			if fx {
				px = f - px
			}
			if fy {
				py = f - py
			}
			return px + float32(x), py + float32(y)
		}
		c.moveTo(m(f, f))
		c.lineTo(m(0, f))
		x1, y1 := m(0, k)
		x2, y2 := m(k, 0)
		x3, y3 := m(f, 0)
		c.cubeTo(x1, y1, x2, y2, x3, y3)
		c.ras.ClosePath()
		c.end(col)
	}
	corner(r.Min.X, r.Min.Y, false, false)
	corner(r.Max.X-rad, r.Min.Y, true, false)
	corner(r.Min.X, r.Max.Y-rad, false, true)
	corner(r.Max.X-rad, r.Max.Y-rad, true, true)
}

func (c *Canvas) circlePath(cx, cy, r float32, reverse bool) {
	k := r * kappa
	c.moveTo(cx+r, cy)
	if !reverse {
		c.cubeTo(cx+r, cy+k, cx+k, cy+r, cx, cy+r)
		c.cubeTo(cx-k, cy+r, cx-r, cy+k, cx-r, cy)
		c.cubeTo(cx-r, cy-k, cx-k, cy-r, cx, cy-r)
		c.cubeTo(cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	} else {
		c.cubeTo(cx+r, cy-k, cx+k, cy-r, cx, cy-r)
		c.cubeTo(cx-k, cy-r, cx-r, cy-k, cx-r, cy)
		c.cubeTo(cx-r, cy+k, cx-k, cy+r, cx, cy+r)
		c.cubeTo(cx+k, cy+r, cx+r, cy+k, cx+r, cy)
	}
	c.ras.ClosePath()
}

// Circle paints a disc of radius r centred on (cx, cy).
func (c *Canvas) Circle(cx, cy, r int, col color.RGBA) {
	if r <= 0 || !c.begin(image.Rect(cx-r-1, cy-r-1, cx+r+1, cy+r+1)) {
		return
	}
	c.circlePath(float32(cx), float32(cy), float32(r), false)
	c.end(col)
}

// Ring paints a circle outline of radius r and stroke width w.
func (c *Canvas) Ring(cx, cy, r, w int, col color.RGBA) {
	if r <= 0 || w <= 0 || !c.begin(image.Rect(cx-r-1, cy-r-1, cx+r+1, cy+r+1)) {
		return
	}
	c.circlePath(float32(cx), float32(cy), float32(r), false)
	if r > w {
		c.circlePath(float32(cx), float32(cy), float32(r-w), true)
	}
	c.end(col)
}

// Polygon paints the closed polygon through pts.
func (c *Canvas) Polygon(pts []image.Point, col color.RGBA) {
	if len(pts) < 3 {
		return
	}
	b := image.Rectangle{Min: pts[0], Max: pts[0]}
	for _, p := range pts {
		b = b.Union(image.Rectangle{Min: p, Max: p.Add(image.Pt(1, 1))})
	}
	if !c.begin(b.Inset(-1)) {
		return
	}
	c.moveTo(float32(pts[0].X), float32(pts[0].Y))
	for _, p := range pts[1:] {
		c.lineTo(float32(p.X), float32(p.Y))
	}
	c.ras.ClosePath()
	c.end(col)
}

// Line paints a straight stroke of width w from (x1,y1) to (x2,y2).
func (c *Canvas) Line(x1, y1, x2, y2, w int, col color.RGBA) {
	dx, dy := float64(x2-x1), float64(y2-y1)
	l := math.Sqrt(dx*dx + dy*dy)
	if l == 0 || w <= 0 {
		return
	}
	nx, ny := -dy/l*float64(w)/2, dx/l*float64(w)/2
	pt := func(x, y int, sx, sy float64) image.Point {
		return image.Pt(x+int(sx+0.5*sign(sx)), y+int(sy+0.5*sign(sy)))
	}
	c.Polygon([]image.Point{pt(x1, y1, nx, ny), pt(x2, y2, nx, ny), pt(x2, y2, -nx, -ny), pt(x1, y1, -nx, -ny)}, col)
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// Text draws s with its baseline at y starting at x, size px tall, and
// returns the x after the last glyph. Runes no font has are drawn as boxes.
func (c *Canvas) Text(x, y int, s string, size int, col color.RGBA) int {
	if size <= 0 {
		return x
	}
	fs := loadFonts()
	c.src.C = col
	for _, r := range s {
		g := fs.glyph(r, size)
		switch {
		case g.tofu:
			// A hollow box: clearly a placeholder, never mistaken for text.
			bx := image.Rect(x+size/10, y-size*8/10, x+size*9/10, y+size/10)
			t := max(1, size/14)
			c.Fill(image.Rect(bx.Min.X, bx.Min.Y, bx.Max.X, bx.Min.Y+t), col)
			c.Fill(image.Rect(bx.Min.X, bx.Max.Y-t, bx.Max.X, bx.Max.Y), col)
			c.Fill(image.Rect(bx.Min.X, bx.Min.Y, bx.Min.X+t, bx.Max.Y), col)
			c.Fill(image.Rect(bx.Max.X-t, bx.Min.Y, bx.Max.X, bx.Max.Y), col)
		case g.mask != nil:
			dr := g.mask.Rect.Add(image.Pt(x, y).Add(g.off))
			draw.DrawMask(c.Img, dr, &c.src, image.Point{}, g.mask, image.Point{}, draw.Over)
		}
		x += g.advance
	}
	return x
}

// pngBuffers lets consecutive encodes reuse png's internal buffers.
type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	v, _ := b.p.Get().(*png.EncoderBuffer)
	return v
}
func (b *pngBuffers) Put(v *png.EncoderBuffer) { b.p.Put(v) }

var encoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// EncodePNG writes img as PNG with the fastest compression. Opaque RGBA
// images (every Canvas) take a fast path with one filter per row; others
// use image/png at BestSpeed with pooled buffers.
func EncodePNG(w io.Writer, img image.Image) error {
	if m, ok := img.(*image.RGBA); ok && m.Opaque() {
		return encodeRGB(w, m)
	}
	if err := encoder.Encode(w, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}
