package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"testing"
)

func TestEncodePNGRoundTrip(t *testing.T) {
	c := NewCanvas(97, 61)
	defer c.Release()
	c.Fill(c.Img.Rect, color.RGBA{0xff, 0xff, 0xff, 0xff})
	c.RoundRect(image.Rect(5, 5, 60, 40), 10, color.RGBA{0x07, 0xc1, 0x60, 0xff})
	c.Circle(70, 30, 12, color.RGBA{0xff, 0, 0, 0xff})
	c.Ring(30, 50, 8, 2, color.RGBA{0, 0, 0xff, 0xff})
	c.Line(0, 60, 96, 0, 3, color.RGBA{0, 0, 0, 0xff})
	c.Text(2, 58, "Hi 你好", 14, color.RGBA{0, 0, 0, 0xff})
	for _, img := range []image.Image{c.Img, image.NewNRGBA(image.Rect(0, 0, 9, 4))} {
		var buf bytes.Buffer
		if err := EncodePNG(&buf, img); err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r1, g1, b1, a1 := img.At(x, y).RGBA()
				r2, g2, b2, a2 := got.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
					t.Fatalf("pixel %d,%d: %v != %v", x, y, img.At(x, y), got.At(x, y))
				}
			}
		}
	}
}

func TestFonts(t *testing.T) {
	if w := Measure("abc", 20); w <= 0 {
		t.Fatalf("Measure = %d", w)
	}
	if Measure("", 20) != 0 || Measure("x", 0) != 0 {
		t.Fatal("empty measure not 0")
	}
	if _, err := os.Stat(CJKFontPaths[0]); err == nil {
		if !HasCJK() {
			t.Fatalf("%s exists but no CJK font loaded", CJKFontPaths[0])
		}
		if g := loadFonts().glyph('微', 30); g.tofu || g.mask == nil {
			t.Fatal("微 not rasterised")
		}
	}
	// A rune no font has is a placeholder box, never a panic.
	if g := loadFonts().glyph('\U000F0000', 30); !g.tofu {
		t.Fatal("private-use rune not drawn as a box")
	}
}

func TestRealignRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("ttcf"), []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"), bytes.Repeat([]byte{0xff}, 40)} {
		if _, err := realign(in); err == nil {
			t.Errorf("realign(%q) succeeded", in)
		}
	}
}

func TestShapesClippedAtEdges(t *testing.T) {
	c := NewCanvas(50, 40)
	defer c.Release()
	red := color.RGBA{0xff, 0, 0, 0xff}
	c.Fill(c.Img.Rect, color.RGBA{0, 0, 0, 0xff})
	for _, p := range []image.Point{{0, 0}, {50, 40}, {-30, 20}, {25, -100}, {49, 39}} {
		c.Circle(p.X, p.Y, 15, red)
		c.Ring(p.X, p.Y, 15, 3, red)
		c.RoundRect(image.Rect(p.X-20, p.Y-20, p.X+20, p.Y+20), 8, red)
		c.Line(p.X, p.Y, p.X+80, p.Y-70, 4, red)
		c.Polygon([]image.Point{p, p.Add(image.Pt(60, 5)), p.Add(image.Pt(-5, 70))}, red)
		c.Text(p.X, p.Y, "边缘 edge", 20, red)
	}
	if got := c.Img.RGBAAt(2, 2); got != red {
		t.Fatalf("disc at the corner not drawn inside the canvas: %v", got)
	}
}

// TestFallbackWithoutCJKFont re-runs this test binary with CJK fonts
// disabled: Latin text still renders from the Go fonts and CJK runes are
// placeholder boxes.
func TestFallbackWithoutCJKFont(t *testing.T) {
	if os.Getenv(FontPathEnv) == "none" {
		if HasCJK() {
			t.Fatal("CJK font loaded despite none")
		}
		if g := loadFonts().glyph('A', 30); g.tofu || g.mask == nil {
			t.Fatal("no Latin fallback")
		}
		if g := loadFonts().glyph('微', 30); !g.tofu {
			t.Fatal("CJK rune without a font is not a box")
		}
		c := NewCanvas(120, 40)
		defer c.Release()
		c.Text(2, 30, "Hi 微信", 24, color.RGBA{0, 0, 0, 0xff})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFallbackWithoutCJKFont$", "-test.count=1")
	cmd.Env = append(os.Environ(), FontPathEnv+"=none")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
