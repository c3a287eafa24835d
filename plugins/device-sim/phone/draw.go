package phone

import (
	"image"
	"image/color"
	"strings"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

// draw paints the snapshot: window, status bar, navigation bar, keyboard
// and toast.
func (s *snapshot) draw(c *render.Canvas) {
	full := image.Rect(0, 0, s.w, s.h)
	sy := func(v int) int { return v * s.h / designH }
	sx := func(v int) int { return v * s.w / designW }
	fs := func(v int) int { return max(v*min(s.w*1000/designW, s.h*1000/designH)/1000, 6) }
	if s.booting {
		c.Fill(full, black)
		centerText(c, full.Inset(0).Sub(image.Pt(0, 0)), "android", fs(90), rgb(0xdd, 0xdd, 0xdd))
		return
	}
	if !s.awake {
		c.Fill(full, color.RGBA{A: 0xff})
		return
	}
	// Pooled canvases keep the last frame: start from an opaque fill.
	bg := s.bg
	bg.A = 0xff
	c.Fill(full, bg)
	drawNode(c, s.f.root)
	// Status bar.
	sb := image.Rect(0, 0, s.w, sy(statusH))
	fg := black
	under := s.status
	if under.A == 0 {
		under = s.bg
	} else {
		c.Fill(sb, s.status)
	}
	if lum(under) < 140 {
		fg = white
	}
	size := fs(38)
	base := sb.Min.Y + sb.Dy()/2 + size*35/100
	c.Text(sx(48), base, s.clock, size, fg)
	x := s.w - sx(48)
	// Battery: outline, 85% fill, then the number.
	bw, bh := sx(56), sy(28)
	bt := image.Rect(x-bw, sb.Dy()/2-bh/2, x, sb.Dy()/2+bh/2)
	outline(c, bt, max(sx(3), 1), fg)
	c.Fill(image.Rect(bt.Min.X+sx(6), bt.Min.Y+sy(6), bt.Min.X+sx(6)+(bt.Dx()-sx(12))*85/100, bt.Max.Y-sy(6)), fg)
	c.Fill(image.Rect(bt.Max.X, bt.Min.Y+bh/3, bt.Max.X+sx(5), bt.Max.Y-bh/3), fg)
	x = bt.Min.X - sx(20)
	x -= render.Measure("85%", fs(32))
	c.Text(x, base, "85%", fs(32), fg)
	x -= sx(30)
	if s.airplane {
		// A small aeroplane: fuselage, wings and tail.
		x -= sx(40)
		cx, cy := x+sx(20), base-sy(18)
		u := sx(20)
		c.Polygon([]image.Point{{cx - u, cy - u/6}, {cx + u, cy - u/6}, {cx + u, cy + u/6}, {cx - u, cy + u/6}}, fg)
		c.Polygon([]image.Point{{cx + u/5, cy}, {cx - u/4, cy - u}, {cx - u/2, cy - u}, {cx - u/5, cy}, {cx - u/2, cy + u}, {cx - u/4, cy + u}}, fg)
		c.Polygon([]image.Point{{cx - u*8/10, cy}, {cx - u, cy - u/2}, {cx - u*9/10, cy}, {cx - u, cy + u/2}}, fg)
	} else {
		// Signal bars.
		for i := 3; i >= 0; i-- {
			hh := sy(10 + i*7)
			c.Fill(image.Rect(x-sx(10), base-hh, x-sx(3), base), fg)
			x -= sx(12)
		}
	}
	if s.wifi {
		x -= sx(50)
		cx, by := x+sx(22), base
		c.Polygon([]image.Point{{cx, by}, {cx - sx(24), by - sy(26)}, {cx - sx(12), by - sy(34)}, {cx, by - sy(36)}, {cx + sx(12), by - sy(34)}, {cx + sx(24), by - sy(26)}}, fg)
	}
	if s.bt {
		x -= sx(40)
		c.Text(x, base, "B", fs(34), fg)
	}
	// Navigation bar: back, home, recents.
	nb := image.Rect(0, sy(navTop), s.w, s.h)
	c.Fill(nb, rgb(0xf8, 0xf8, 0xf8))
	cy := nb.Min.Y + nb.Dy()/2
	r := min(sx(26), nb.Dy()/3)
	third := s.w / 3
	c.Polygon([]image.Point{{third/2 - r, cy}, {third/2 + r*8/10, cy - r}, {third/2 + r*8/10, cy + r}}, rgb(0x55, 0x55, 0x55))
	c.Ring(s.w/2, cy, r, max(sx(5), 2), rgb(0x55, 0x55, 0x55))
	outline(c, image.Rect(third*5/2-r*9/10, cy-r*9/10, third*5/2+r*9/10, cy+r*9/10), max(sx(5), 2), rgb(0x55, 0x55, 0x55))
	if s.f.kb != nil {
		drawNode(c, s.f.kb)
	}
	if s.toast != "" {
		ts := fs(40)
		tw := render.Measure(s.toast, ts) + sx(80)
		tr := image.Rect(s.w/2-tw/2, sy(navTop-380), s.w/2+tw/2, sy(navTop-380)+ts*2+sy(20))
		c.RoundRect(tr, tr.Dy()/2, rgb(0x3a, 0x3a, 0x3a))
		centerText(c, tr, s.toast, ts, white)
	}
}

func lum(c color.RGBA) int { return (int(c.R)*299 + int(c.G)*587 + int(c.B)*114) / 1000 }

func outline(c *render.Canvas, r image.Rectangle, t int, col color.RGBA) {
	c.Fill(image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+t), col)
	c.Fill(image.Rect(r.Min.X, r.Max.Y-t, r.Max.X, r.Max.Y), col)
	c.Fill(image.Rect(r.Min.X, r.Min.Y, r.Min.X+t, r.Max.Y), col)
	c.Fill(image.Rect(r.Max.X-t, r.Min.Y, r.Max.X, r.Max.Y), col)
}

func centerText(c *render.Canvas, r image.Rectangle, s string, size int, col color.RGBA) {
	w := render.Measure(s, size)
	c.Text(r.Min.X+(r.Dx()-w)/2, r.Min.Y+r.Dy()/2+size*35/100, s, size, col)
}

// ellipsize shortens s with "…" to fit width pixels, in linear time.
func ellipsize(s string, size, width int) string {
	dots := render.Advance('…', size)
	w, cut := 0, -1
	for i, r := range s {
		a := render.Advance(r, size)
		if cut < 0 && w+a+dots > width {
			cut = i // where "…" goes if s does not fit
		}
		w += a
		if w > width {
			if cut < 0 {
				cut = i
			}
			return s[:cut] + "…"
		}
	}
	return s
}

func drawNode(c *render.Canvas, n *Node) {
	st := n.st
	b := n.Bounds
	if b.Empty() {
		return
	}
	if st.icon == "app" {
		drawAppIcon(c, n)
		return
	}
	if st.bg.A > 0 {
		if st.border.A > 0 {
			c.RoundRect(b, st.radius, st.border)
			c.RoundRect(b.Inset(3), max(st.radius-3, 0), st.bg)
		} else {
			c.RoundRect(b, st.radius, st.bg)
		}
	} else if st.border.A > 0 {
		c.RoundRect(b, st.radius, st.border)
		c.RoundRect(b.Inset(3), max(st.radius-3, 0), white)
	}
	if st.icon != "" {
		drawIcon(c, n)
	} else if st.glyph != "" {
		centerText(c, b, st.glyph, st.size, st.fg)
	} else if n.Text != "" && st.size > 0 {
		drawText(c, n)
	}
	if n.Focused && n.Class == "android.widget.EditText" && !n.hint {
		// Caret after the text.
		w := render.Measure(lastLine(n.Text), st.size)
		x := min(b.Min.X+st.pad+w+2, b.Max.X-st.pad)
		c.Fill(image.Rect(x, b.Min.Y+b.Dy()/2-st.size*6/10, x+max(st.size/14, 2), b.Min.Y+b.Dy()/2+st.size*6/10), rgb(0x07, 0xc1, 0x60))
	} else if n.Focused && n.Class == "android.widget.EditText" {
		c.Fill(image.Rect(b.Min.X+st.pad, b.Min.Y+b.Dy()/2-st.size*6/10, b.Min.X+st.pad+max(st.size/14, 2), b.Min.Y+b.Dy()/2+st.size*6/10), rgb(0x07, 0xc1, 0x60))
	}
	for _, k := range n.Children {
		drawNode(c, k)
	}
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func drawText(c *render.Canvas, n *Node) {
	st := n.st
	b := n.Bounds
	fg := st.fg
	if n.hint {
		fg = rgb(0xaa, 0xaa, 0xaa)
	}
	width := b.Dx() - 2*st.pad
	if width <= 0 {
		return
	}
	var lines []string
	if st.lines > 1 {
		lines = wrap(n.Text, st.size, width, st.lines+1)
		if len(lines) > st.lines {
			lines = lines[:st.lines]
			lines[st.lines-1] = ellipsize(lines[st.lines-1]+"…", st.size, width)
		}
	} else {
		lines = []string{ellipsize(strings.ReplaceAll(n.Text, "\n", " "), st.size, width)}
	}
	lh := st.size * 13 / 10
	y0 := b.Min.Y + (b.Dy()-lh*len(lines))/2 + lh/2 + st.size*35/100
	for i, l := range lines {
		x := b.Min.X + st.pad
		switch st.align {
		case alignCenter:
			x = b.Min.X + (b.Dx()-render.Measure(l, st.size))/2
		case alignRight:
			x = b.Max.X - st.pad - render.Measure(l, st.size)
		}
		c.Text(x, y0+i*lh, l, st.size, fg)
		if st.bold {
			c.Text(x+1, y0+i*lh, l, st.size, fg)
		}
	}
}

func drawAppIcon(c *render.Canvas, n *Node) {
	b, st := n.Bounds, n.st
	size := min(b.Dx()*64/100, b.Dy()*53/100)
	ic := image.Rect(b.Min.X+(b.Dx()-size)/2, b.Min.Y+b.Dy()*8/100, b.Min.X+(b.Dx()+size)/2, b.Min.Y+b.Dy()*8/100+size)
	c.RoundRect(ic, st.radius, st.bg)
	centerText(c, ic, st.glyph, size*48/100, st.fg)
	lr := image.Rect(b.Min.X, ic.Max.Y+size/12, b.Max.X, ic.Max.Y+size/12+st.size*16/10)
	shadow := lr.Add(image.Pt(2, 2))
	centerText(c, shadow, n.Text, st.size, rgb(0x10, 0x20, 0x30))
	centerText(c, lr, n.Text, st.size, st.fg)
}
