package phone

import (
	"image"
	"image/color"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

// Node is one element of a screen's element tree, with the attributes
// uiautomator reports. Bounds are in screen pixels.
type Node struct {
	Class         string          `json:"class"`
	Text          string          `json:"text,omitempty"`
	ResourceID    string          `json:"resource_id,omitempty"`
	Desc          string          `json:"content_desc,omitempty"`
	Package       string          `json:"package"`
	Bounds        image.Rectangle `json:"bounds"`
	Checkable     bool            `json:"checkable,omitempty"`
	Checked       bool            `json:"checked,omitempty"`
	Clickable     bool            `json:"clickable,omitempty"`
	Enabled       bool            `json:"enabled"`
	Focusable     bool            `json:"focusable,omitempty"`
	Focused       bool            `json:"focused,omitempty"`
	Scrollable    bool            `json:"scrollable,omitempty"`
	LongClickable bool            `json:"long_clickable,omitempty"`
	Password      bool            `json:"password,omitempty"`
	Selected      bool            `json:"selected,omitempty"`
	Children      []*Node         `json:"children,omitempty"`

	st    style
	hint  bool    // Text is the hint of an empty EditText (drawn grey)
	value float64 // SeekBar progress, 0..1
	tap   func(x, y int)
	long  func()
}

// style says how the renderer draws a node; sizes are screen pixels.
type style struct {
	bg     color.RGBA // background; zero alpha draws none
	radius int
	border color.RGBA
	fg     color.RGBA // text colour
	size   int        // font size; 0 draws no text
	align  int8       // alignLeft, alignCenter, alignRight
	pad    int        // horizontal text padding
	lines  int        // max text lines; 0 or 1 is a single line
	icon   string     // vector icon drawn instead of text, see drawIcon
	glyph  string     // short text drawn centred on the icon or bg, not dumped
	bold   bool
}

const (
	alignLeft int8 = iota
	alignCenter
	alignRight
)

// Walk calls f for n and its descendants, depth first, parents first.
func (n *Node) Walk(f func(*Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Children {
		c.Walk(f)
	}
}

func (n *Node) add(kids ...*Node) *Node {
	for _, k := range kids {
		if k != nil {
			n.Children = append(n.Children, k)
		}
	}
	return n
}

// hit returns the deepest node at pt with a tap (or long) handler.
func hit(n *Node, pt image.Point, long bool) *Node {
	if n == nil || !pt.In(n.Bounds) {
		return nil
	}
	for i := len(n.Children) - 1; i >= 0; i-- {
		if h := hit(n.Children[i], pt, long); h != nil {
			return h
		}
	}
	if (!long && n.tap != nil) || (long && n.long != nil) {
		return n
	}
	return nil
}

// scrollableAt returns the deepest scrollable node at pt.
func scrollableAt(n *Node, pt image.Point) *Node {
	if n == nil || !pt.In(n.Bounds) {
		return nil
	}
	for i := len(n.Children) - 1; i >= 0; i-- {
		if h := scrollableAt(n.Children[i], pt); h != nil {
			return h
		}
	}
	if n.Scrollable {
		return n
	}
	return nil
}

// Design space: every layout is written for a 1080×2400 screen and scaled.
const (
	designW   = 1080
	designH   = 2400
	statusH   = 96   // status bar height
	navTop    = 2268 // navigation bar top
	appBarH   = 168
	kbLatinH  = 820 // LatinIME keyboard height
	kbADBH    = 130 // ADB Keyboard's small bar
	designPad = 48
)

// builder builds one screen's element tree. Coordinates passed to its
// methods are design pixels; nodes get screen pixels.
type builder struct {
	p   *Phone
	w   *world
	s   *screen
	W   int
	H   int
	pkg string
	// bottom is the lowest design y content may use: the navigation bar, or
	// the keyboard's top when it is shown (adjustResize).
	bottom int
	// actions are the IME actions of the screen's fields by resource-id,
	// run on ENTER or the ADB Keyboard's editor code.
	actions map[string]func(text string)
	out     []*Node    // the screen's top-level elements, in z order
	bg      color.RGBA // the window background
	status  color.RGBA // status bar background; zero alpha shows the window
}

// add appends top-level elements to the screen.
func (b *builder) add(n ...*Node) {
	for _, c := range n {
		if c != nil {
			b.out = append(b.out, c)
		}
	}
}

func (b *builder) x(v int) int { return v * b.W / designW }
func (b *builder) y(v int) int { return v * b.H / designH }

// R maps a design rectangle to screen pixels.
func (b *builder) R(l, t, r, bt int) image.Rectangle {
	return image.Rect(b.x(l), b.y(t), b.x(r), b.y(bt))
}

// F scales a design font size.
func (b *builder) F(px int) int {
	s := min(b.W*1000/designW, b.H*1000/designH)
	return max(px*s/1000, 6)
}

func (b *builder) node(class string, l, t, r, bt int) *Node {
	return &Node{Class: class, Package: b.pkg, Bounds: b.R(l, t, r, bt), Enabled: true}
}

func (b *builder) frame(l, t, r, bt int, bg color.RGBA) *Node {
	n := b.node("android.widget.FrameLayout", l, t, r, bt)
	n.st.bg = bg
	return n
}

func (b *builder) linear(l, t, r, bt int, bg color.RGBA) *Node {
	n := b.node("android.widget.LinearLayout", l, t, r, bt)
	n.st.bg = bg
	return n
}

// label is a TextView.
func (b *builder) label(text string, l, t, r, bt, size int, fg color.RGBA) *Node {
	n := b.node("android.widget.TextView", l, t, r, bt)
	n.Text = text
	n.st.fg = fg
	n.st.size = b.F(size)
	return n
}

func (b *builder) centered(n *Node) *Node { n.st.align = alignCenter; return n }

// button is a clickable Button with centred text.
func (b *builder) button(text, id string, l, t, r, bt int, bg, fg color.RGBA, size int, tap func()) *Node {
	n := b.node("android.widget.Button", l, t, r, bt)
	n.Text, n.ResourceID = text, id
	n.Clickable, n.Focusable = true, true
	n.st = style{bg: bg, fg: fg, size: b.F(size), align: alignCenter, radius: b.F(24)}
	n.tap = func(int, int) { tap() }
	return n
}

// icon is a clickable ImageView drawn as a vector icon.
func (b *builder) icon(icon, desc, id string, l, t, r, bt int, fg color.RGBA, tap func()) *Node {
	n := b.node("android.widget.ImageView", l, t, r, bt)
	n.Desc, n.ResourceID = desc, id
	n.st.icon, n.st.fg = icon, fg
	if tap != nil {
		n.Clickable, n.Focusable = true, true
		n.tap = func(int, int) { tap() }
	}
	return n
}

// clickable makes n (usually a layout) a click target.
func clickable(n *Node, tap func()) *Node {
	n.Clickable, n.Focusable = true, true
	n.tap = func(int, int) { tap() }
	return n
}

// edit is an EditText bound to the screen field id. action, when set, runs
// on the IME action (ENTER or the ADB Keyboard's editor code) with the text.
func (b *builder) edit(id, hint string, l, t, r, bt, size int, action func(text string)) *Node {
	n := b.node("android.widget.EditText", l, t, r, bt)
	n.ResourceID = id
	n.Clickable, n.Focusable, n.LongClickable = true, true, true
	n.Focused = b.s.focus == id
	n.Text = b.s.field(id)
	if n.Text == "" {
		n.Text, n.hint = hint, true
	}
	n.st = style{bg: rgb(0xff, 0xff, 0xff), fg: rgb(0x22, 0x22, 0x22), size: b.F(size), pad: b.x(28), radius: b.F(16),
		border: rgb(0xd9, 0xd9, 0xd9)}
	if n.Focused {
		n.st.border = rgb(0x07, 0xc1, 0x60)
	}
	w, s := b.w, b.s
	n.tap = func(int, int) {
		s.focus = id
		w.kbShown = true
		w.changed()
	}
	if action != nil {
		b.actions[id] = action
	}
	return n
}

// list is a scrollable RecyclerView from design y top to bottom showing n
// items of height itemH; item builds item i at design y.
func (b *builder) list(id string, top, bottom, n, itemH int, item func(i, y int) *Node) *Node {
	lv := b.node("androidx.recyclerview.widget.RecyclerView", 0, top, designW, bottom)
	lv.ResourceID = id
	maxScroll := max(n*itemH-(bottom-top), 0)
	b.s.scroll = min(max(b.s.scroll, 0), maxScroll)
	lv.Scrollable = maxScroll > 0
	for i := 0; i < n; i++ {
		y := top + i*itemH - b.s.scroll
		if y+itemH <= top || y >= bottom {
			continue
		}
		if c := item(i, y); c != nil {
			if clipTree(c, lv.Bounds) {
				lv.add(c)
			}
		}
	}
	return lv
}

// clipTree clips n and its children to r, dropping children left empty;
// it reports whether n is still visible.
func clipTree(n *Node, r image.Rectangle) bool {
	n.Bounds = n.Bounds.Intersect(r)
	if n.Bounds.Empty() {
		return false
	}
	kids := n.Children[:0]
	for _, c := range n.Children {
		if clipTree(c, r) {
			kids = append(kids, c)
		}
	}
	n.Children = kids
	return true
}

// wrap splits text into lines no wider than width pixels at size, keeping
// at most maxLines lines (0: no limit). It runs in time linear in the text
// it keeps.
func wrap(text string, size, width, maxLines int) []string {
	var lines []string
	var cur []rune
	w := 0
	for _, r := range text {
		if maxLines > 0 && len(lines) >= maxLines {
			return lines
		}
		if r == '\n' {
			lines = append(lines, string(cur))
			cur, w = cur[:0], 0
			continue
		}
		a := render.Advance(r, size)
		if len(cur) > 0 && w+a > width {
			lines = append(lines, string(cur))
			cur, w = cur[:0], 0
			if maxLines > 0 && len(lines) >= maxLines {
				return lines
			}
		}
		cur = append(cur, r)
		w += a
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// Palette shared by the apps.
var (
	white     = rgb(0xff, 0xff, 0xff)
	black     = rgb(0x11, 0x11, 0x11)
	textMain  = rgb(0x1a, 0x1a, 0x1a)
	textSub   = rgb(0x88, 0x88, 0x88)
	bgGrey    = rgb(0xf2, 0xf2, 0xf2)
	divider   = rgb(0xe5, 0xe5, 0xe5)
	wechatBar = rgb(0xed, 0xed, 0xed)
)

// appBar is a title bar with an optional back arrow at design y top.
func (b *builder) appBar(title string, back bool, bg, fg color.RGBA) *Node {
	bar := b.frame(0, statusH, designW, statusH+appBarH, bg)
	if back {
		w := b.w
		bar.add(b.icon("back", "返回", "", 0, statusH, 150, statusH+appBarH, fg, w.back))
	}
	t := b.label(title, 150, statusH, designW-150, statusH+appBarH, 52, fg)
	t.st.bold = true
	if !back {
		t.Bounds = b.R(designPad, statusH, designW-300, statusH+appBarH)
	}
	return bar.add(t)
}

// divider draws a thin horizontal rule; it is not an element.
func (b *builder) rule(parent *Node, l, y, r int) {
	n := b.node("android.view.View", l, y, r, y+2)
	n.st.bg = divider
	n.Class = "" // drawn, not dumped
	parent.add(n)
}
