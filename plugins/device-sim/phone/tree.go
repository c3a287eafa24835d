package phone

import (
	"image"
	"image/color"
)

// frame is one built screen: the app window's element tree plus what is
// drawn over it. Its handlers run with Phone.mu held.
type frame struct {
	root     *Node
	kb       *Node // soft keyboard window; nil when hidden
	kbTop    int   // screen y of the keyboard's top
	actions  map[string]func(string)
	pkg      string
	act      string
	statusBg color.RGBA
}

// build constructs the foreground screen. Called with p.mu held.
func (p *Phone) build() *frame {
	w := p.w
	s := w.cur()
	if w.inRecent {
		s = &screen{kind: "recents"}
	}
	pkg, act := w.activity()
	b := &builder{p: p, w: w, s: s, W: p.opts.Width, H: p.opts.Height, pkg: pkg,
		bottom: navTop, actions: map[string]func(string){}, bg: white, status: white}
	kbH := 0
	if w.kbShown && s.focus != "" && !w.inRecent {
		kbH = kbLatinH
		if w.get("secure", "default_input_method") == imeADB {
			kbH = kbADBH
		}
		b.bottom = navTop - kbH
	}
	root := b.node("android.widget.FrameLayout", 0, 0, designW, designH)
	root.st.bg = white
	if k := screenKinds[s.kind]; k != nil {
		content := b.node("android.widget.FrameLayout", 0, statusH, designW, b.bottom)
		content.ResourceID = "android:id/content"
		root.add(content)
		k.build(b)
		// Builders add to b.root via content; see buildInto.
		content.Children = b.out
		content.st.bg = b.bg
		root.st.bg = b.bg
	}
	f := &frame{root: root, actions: b.actions, pkg: pkg, act: act, statusBg: b.status}
	if kbH > 0 {
		kb := &builder{p: p, w: w, s: s, W: b.W, H: b.H, pkg: "com.android.inputmethod.latin", actions: b.actions}
		f.kb = kb.keyboard(navTop-kbH, kbH)
		f.kbTop = kb.y(navTop - kbH)
	}
	return f
}

// at returns the handler target for a tap at pt: a keyboard key when the
// keyboard covers pt, else the app's deepest clickable element.
func (f *frame) at(pt image.Point, long bool) *Node {
	if f.kb != nil && pt.Y >= f.kbTop {
		return hit(f.kb, pt, long)
	}
	return hit(f.root, pt, long)
}
