package phone

import (
	"strings"
	"unicode/utf8"
)

// keyboard builds the soft keyboard window at design y top, h tall: a
// QWERTY LatinIME whose keys type, or the ADB Keyboard's status bar.
func (b *builder) keyboard(top, h int) *Node {
	w := b.w
	if w.get("secure", "default_input_method") == imeADB {
		b.pkg = "com.android.adbkeyboard"
		kb := b.frame(0, top, designW, top+h, rgb(0x26, 0x32, 0x38))
		l := b.centered(b.label("ADB Keyboard {ON}", 0, top, designW, top+h, 40, rgb(0xff, 0xff, 0xff)))
		return kb.add(l)
	}
	kb := b.frame(0, top, designW, top+h, rgb(0xe8, 0xea, 0xed))
	rows := []string{"qwertyuiop", "asdfghjkl", "zxcvbnm"}
	keyH := (h - 40) / 4
	keyW := designW / 10
	for ri, row := range rows {
		y := top + 20 + ri*keyH
		x0 := (designW - len(row)*keyW) / 2
		for ci, r := range row {
			ch := string(r)
			x := x0 + ci*keyW
			kb.add(b.key(ch, x, y, x+keyW, y+keyH, func() { w.typeText(ch) }))
		}
	}
	y := top + 20 + 2*keyH
	kb.add(b.key("⇧", 0, y, keyW*3/2, y+keyH, func() {}))
	kb.add(b.key("删除", designW-keyW*3/2, y, designW, y+keyH, w.deleteChar))
	y += keyH
	kb.add(b.key("?123", 0, y, keyW*3/2, y+keyH, func() {}))
	kb.add(b.key(",", keyW*3/2, y, keyW*5/2, y+keyH, func() { w.typeText(",") }))
	kb.add(b.key("空格", keyW*5/2, y, keyW*15/2, y+keyH, func() { w.typeText(" ") }))
	kb.add(b.key(".", keyW*15/2, y, keyW*17/2, y+keyH, func() { w.typeText(".") }))
	acts := b.actions
	s := b.s
	enter := "换行"
	if acts[s.focus] != nil {
		enter = "确定"
	}
	kb.add(b.key(enter, keyW*17/2, y, designW, y+keyH, func() { w.imeAction(acts, s) }))
	return kb
}

func (b *builder) key(label string, l, t, r, bt int, tap func()) *Node {
	n := b.button(label, "", l+8, t+10, r-8, bt-10, rgb(0xff, 0xff, 0xff), textMain, 44, tap)
	n.Class = "android.inputmethodservice.Keyboard$Key"
	n.st.radius = b.F(12)
	return n
}

// typeText inserts s at the end of the focused field, if any.
func (w *world) typeText(s string) bool {
	c := w.cur()
	if c.focus == "" || s == "" {
		return false
	}
	c.setField(c.focus, c.field(c.focus)+s)
	w.changed()
	return true
}

// deleteChar removes the last character of the focused field.
func (w *world) deleteChar() {
	c := w.cur()
	if c.focus == "" {
		return
	}
	t := c.field(c.focus)
	if t == "" {
		return
	}
	_, n := utf8.DecodeLastRuneInString(t)
	c.setField(c.focus, t[:len(t)-n])
	w.changed()
}

// clearText empties the focused field (ADB_CLEAR_TEXT).
func (w *world) clearText() {
	c := w.cur()
	if c.focus == "" {
		return
	}
	c.setField(c.focus, "")
	w.changed()
}

// imeAction runs the focused field's action (search, send), as ENTER does.
func (w *world) imeAction(acts map[string]func(string), s *screen) bool {
	if s.focus == "" {
		return false
	}
	if a := acts[s.focus]; a != nil {
		a(strings.TrimSpace(s.field(s.focus)))
		w.changed()
		return true
	}
	return false
}
