package phone

import (
	"hash/fnv"
	"image/color"
)

var avatarColors = []color.RGBA{
	rgb(0x5b, 0x8f, 0xf9), rgb(0xf6, 0x8b, 0x5d), rgb(0x3c, 0xb3, 0x71), rgb(0xe0, 0x5a, 0x7b),
	rgb(0x9b, 0x6b, 0xd6), rgb(0x2a, 0xa5, 0xb8), rgb(0xd9, 0xa4, 0x1b), rgb(0x7a, 0x8a, 0x99),
}

func colorFor(s string) color.RGBA {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return avatarColors[h.Sum32()%uint32(len(avatarColors))]
}

// firstRune returns the first character of s, for avatars and icons.
func firstRune(s string) string {
	for _, r := range s {
		return string(r)
	}
	return "?"
}

// avatar is an ImageView: a coloured rounded square with a character.
func (b *builder) avatar(name, desc string, l, t, size int) *Node {
	n := b.node("android.widget.ImageView", l, t, l+size, t+size)
	n.Desc = desc
	n.st = style{bg: colorFor(name), radius: b.F(size / 8), glyph: firstRune(name), fg: white, size: b.F(size * 45 / 100), align: alignCenter}
	return n
}

// badgeIcon is a coloured circle with a glyph, for settings rows.
func (b *builder) badgeIcon(glyph string, bg color.RGBA, l, t, size int) *Node {
	n := b.node("android.widget.ImageView", l, t, l+size, t+size)
	n.st = style{bg: bg, radius: b.F(size / 2), glyph: glyph, fg: white, size: b.F(size / 2), align: alignCenter}
	return n
}

// searchBox is a clickable fake search field (a TextView that opens the
// search screen), as most apps' home pages have.
func (b *builder) searchBox(id, hint string, l, t, r, bt int, bg color.RGBA, tap func()) *Node {
	box := b.linear(l, t, r, bt, bg)
	box.ResourceID = id
	box.st.radius = b.F((bt - t) / 2)
	clickable(box, tap)
	box.add(b.icon("search", "", "", l+20, t, l+100, bt, textSub, nil))
	h := b.label(hint, l+100, t, r-20, bt, 40, textSub)
	return box.add(h)
}

// tabBar is a bottom navigation bar; tapping a tab selects it on the screen.
func (b *builder) tabBar(id string, tabs []string, icons []string, active color.RGBA) *Node {
	top := navTop - 150
	bar := b.linear(0, top, designW, navTop, rgb(0xf7, 0xf7, 0xf7))
	bar.ResourceID = id
	w := designW / len(tabs)
	s, wd := b.s, b.w
	for i, name := range tabs {
		fg := rgb(0x55, 0x55, 0x55)
		if i == s.tab {
			fg = active
		}
		i := i
		cell := clickable(b.linear(i*w, top, (i+1)*w, navTop, color.RGBA{}), func() {
			s.tab, s.scroll = i, 0
			wd.changed()
		})
		cell.Selected = i == s.tab
		cell.Desc = name
		ic := "dot"
		if i < len(icons) {
			ic = icons[i]
		}
		cell.add(b.icon(ic, "", "", i*w+w/2-36, top+14, i*w+w/2+36, top+86, fg, nil))
		cell.add(b.centered(b.label(name, i*w, top+86, (i+1)*w, top+140, 30, fg)))
		bar.add(cell)
	}
	b.rule(bar, 0, top, designW)
	return bar
}

// row is a settings-style list row with a title, optional summary and an
// optional trailing widget.
func (b *builder) row(id, title, summary string, t, h int, tap func()) *Node {
	r := b.linear(0, t, designW, t+h, color.RGBA{})
	r.ResourceID = id
	if tap != nil {
		clickable(r, tap)
	}
	tt := t + h/2 - 40
	if summary == "" {
		tt = t
	}
	ti := b.label(title, designPad+130, tt, designW-260, t+h/2+10, 46, textMain)
	if summary == "" {
		ti.Bounds = b.R(designPad+130, t, designW-260, t+h)
	}
	ti.ResourceID = "android:id/title"
	r.add(ti)
	if summary != "" {
		su := b.label(summary, designPad+130, t+h/2+5, designW-260, t+h/2+60, 36, textSub)
		su.ResourceID = "android:id/summary"
		r.add(su)
	}
	return r
}

// switchWidget is a Switch reflecting on, toggled by its row.
func (b *builder) switchWidget(on bool, t, h int) *Node {
	n := b.node("android.widget.Switch", designW-designPad-140, t+h/2-40, designW-designPad, t+h/2+40)
	n.ResourceID = "android:id/switch_widget"
	n.Checkable, n.Checked, n.Focusable = true, on, false
	n.Text = "关闭"
	if on {
		n.Text = "开启"
	}
	n.st.icon = "switch"
	n.st.fg = rgb(0x1a, 0x73, 0xe8)
	return n
}

// chevron is the trailing ">" of a row that opens a page.
func (b *builder) chevron(t, h int) *Node {
	n := b.icon("chevron", "", "", designW-designPad-60, t+h/2-30, designW-designPad, t+h/2+30, rgb(0xbb, 0xbb, 0xbb), nil)
	n.Class = ""
	return n
}

// toastMsg shows a transient message (drawn, not dumped).
func (w *world) toastMsg(s string) { w.toast = s }
