package phone

import (
	"image"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

// drawIcon draws n's vector icon (style.icon) centred in its bounds.
func drawIcon(c *render.Canvas, n *Node) {
	b, st := n.Bounds, n.st
	cx, cy := b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2
	r := min(b.Dx(), b.Dy()) * 28 / 100 // icon radius
	t := max(r/5, 2)                    // stroke width
	fg := st.fg
	switch st.icon {
	case "back":
		c.Line(cx+r/3, cy-r*7/10, cx-r/2, cy, t, fg)
		c.Line(cx-r/2, cy, cx+r/3, cy+r*7/10, t, fg)
	case "chevron":
		c.Line(cx-r/4, cy-r/2, cx+r/4, cy, t, fg)
		c.Line(cx+r/4, cy, cx-r/4, cy+r/2, t, fg)
	case "search":
		c.Ring(cx-r/5, cy-r/5, r*6/10, t, fg)
		c.Line(cx+r*2/10, cy+r*2/10, cx+r*7/10, cy+r*7/10, t, fg)
	case "plus":
		c.Ring(cx, cy, r*9/10, max(t*2/3, 2), fg)
		c.Fill(image.Rect(cx-r/2, cy-t/2, cx+r/2, cy+t/2+1), fg)
		c.Fill(image.Rect(cx-t/2, cy-r/2, cx+t/2+1, cy+r/2), fg)
	case "minus":
		c.Ring(cx, cy, r*9/10, max(t*2/3, 2), fg)
		c.Fill(image.Rect(cx-r/2, cy-t/2, cx+r/2, cy+t/2+1), fg)
	case "more":
		for i := -1; i <= 1; i++ {
			c.Circle(cx+i*r/2, cy, max(t*2/3, 2), fg)
		}
	case "mic":
		c.Ring(cx, cy, r*9/10, max(t*2/3, 2), fg)
		c.RoundRect(image.Rect(cx-r/5, cy-r/2, cx+r/5, cy+r/5), r/5, fg)
		c.Fill(image.Rect(cx-1, cy+r/5, cx+2, cy+r/2), fg)
	case "cart":
		c.Line(cx-r, cy-r*6/10, cx-r*6/10, cy-r*6/10, t, fg)
		c.Polygon([]image.Point{{cx - r*6/10, cy - r*6/10}, {cx + r, cy - r*6/10}, {cx + r*7/10, cy + r*3/10}, {cx - r*4/10, cy + r*3/10}}, fg)
		c.Circle(cx-r*3/10, cy+r*6/10, max(t*2/3, 2), fg)
		c.Circle(cx+r*6/10, cy+r*6/10, max(t*2/3, 2), fg)
		if st.glyph != "" {
			br := max(r/2, 8)
			c.Circle(cx+r, cy-r, br, rgb(0xff, 0x30, 0x30))
			centerText(c, image.Rect(cx+r-br, cy-r-br, cx+r+br, cy-r+br), st.glyph, br*13/10, white)
		}
	case "check":
		if n.Class == "android.widget.CheckBox" && !n.Checked {
			c.Ring(cx, cy, r, max(t/2, 2), rgb(0xbb, 0xbb, 0xbb))
			return
		}
		c.Circle(cx, cy, r, fg)
		c.Line(cx-r/2, cy, cx-r/8, cy+r*4/10, max(t*2/3, 2), white)
		c.Line(cx-r/8, cy+r*4/10, cx+r/2, cy-r*4/10, max(t*2/3, 2), white)
	case "clock":
		c.Ring(cx, cy, r, max(t/2, 2), fg)
		c.Line(cx, cy, cx, cy-r*6/10, max(t/2, 2), fg)
		c.Line(cx, cy, cx+r/2, cy, max(t/2, 2), fg)
	case "switch":
		track := image.Rect(b.Min.X, cy-b.Dy()*3/10, b.Max.X, cy+b.Dy()*3/10)
		thumbX := track.Min.X + track.Dy()/2
		col := rgb(0xbd, 0xc1, 0xc6)
		if n.Checked {
			col = fg
			thumbX = track.Max.X - track.Dy()/2
		}
		c.RoundRect(track, track.Dy()/2, col)
		c.Circle(thumbX, cy, track.Dy()/2-3, white)
	case "seekbar":
		h := max(b.Dy()/10, 4)
		track := image.Rect(b.Min.X+h, cy-h/2, b.Max.X-h, cy+h/2)
		c.RoundRect(track, h/2, rgb(0xd0, 0xd4, 0xd9))
		x := track.Min.X + int(float64(track.Dx())*n.value)
		c.RoundRect(image.Rect(track.Min.X, track.Min.Y, x, track.Max.Y), h/2, fg)
		c.Circle(x, cy, b.Dy()/4, fg)
	case "map":
		drawMap(c, b)
	case "home":
		c.Polygon([]image.Point{{cx, cy - r}, {cx + r, cy}, {cx + r*7/10, cy}, {cx + r*7/10, cy + r*8/10}, {cx - r*7/10, cy + r*8/10}, {cx - r*7/10, cy}, {cx - r, cy}}, fg)
	case "chat":
		c.RoundRect(image.Rect(cx-r, cy-r*7/10, cx+r, cy+r*5/10), r/3, fg)
		c.Polygon([]image.Point{{cx - r/2, cy + r*4/10}, {cx - r*7/10, cy + r}, {cx, cy + r*4/10}}, fg)
	case "contacts", "me":
		c.Circle(cx, cy-r*4/10, r*4/10, fg)
		c.RoundRect(image.Rect(cx-r*8/10, cy+r*1/10, cx+r*8/10, cy+r), r*4/10, fg)
	case "discover":
		c.Ring(cx, cy, r, max(t*2/3, 2), fg)
		c.Polygon([]image.Point{{cx + r/2, cy - r/2}, {cx + r/8, cy + r/8}, {cx - r/2, cy + r/2}, {cx - r/8, cy - r/8}}, fg)
	case "order":
		outline(c, image.Rect(cx-r*7/10, cy-r, cx+r*7/10, cy+r), max(t*2/3, 2), fg)
		for i := 0; i < 3; i++ {
			y := cy - r/2 + i*r/2
			c.Fill(image.Rect(cx-r*4/10, y, cx+r*4/10, y+max(t/2, 2)), fg)
		}
	default:
		c.Circle(cx, cy, r/2, fg)
	}
}

// drawMap paints a stylised street map with a location marker.
func drawMap(c *render.Canvas, b image.Rectangle) {
	c.Fill(b, rgb(0xf2, 0xef, 0xe9))
	u := max(b.Dx()/12, 8)
	park := rgb(0xc8, 0xe6, 0xc0)
	water := rgb(0xaa, 0xd3, 0xf5)
	c.Fill(image.Rect(b.Min.X+u, b.Min.Y+u, b.Min.X+4*u, b.Min.Y+3*u).Intersect(b), park)
	c.Fill(image.Rect(b.Max.X-5*u, b.Max.Y-4*u, b.Max.X, b.Max.Y).Intersect(b), water)
	road := rgb(0xff, 0xff, 0xff)
	major := rgb(0xff, 0xd8, 0x8a)
	for x := b.Min.X + 2*u; x < b.Max.X; x += 3 * u {
		c.Fill(image.Rect(x, b.Min.Y, x+u/4, b.Max.Y), road)
	}
	for y := b.Min.Y + 2*u; y < b.Max.Y; y += 3 * u {
		c.Fill(image.Rect(b.Min.X, y, b.Max.X, y+u/4), road)
	}
	my := b.Min.Y + b.Dy()*55/100
	c.Fill(image.Rect(b.Min.X, my, b.Max.X, my+u/2), major)
	mx := b.Min.X + b.Dx()*62/100
	c.Fill(image.Rect(mx, b.Min.Y, mx+u/2, b.Max.Y), major)
	cx, cy := b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2
	c.Circle(cx, cy, u*6/10, rgb(0xff, 0xff, 0xff))
	c.Circle(cx, cy, u*4/10, rgb(0x1e, 0x7c, 0xf2))
}
