package intent

import (
	"strconv"
	"strings"
)

// Phases of the sub-goals that act before they can verify.
const (
	phaseNone = iota
	phaseActed
	phaseSubmitted
)

// step decides the next move of goal g on screen s.
func step(g Goal, s *screen, st *State) move {
	switch g.Kind {
	case KindBack:
		return s.pressOnce("back", st)
	case KindEnter:
		return s.pressOnce("enter", st)
	case KindHome:
		return s.goHome(st)
	case KindOpen:
		return s.open(g, st)
	}
	if st.Backs > 0 && g.App != "" && s.app != g.App {
		// Back led out of the app: what the goal needs is not there.
		return failed(s.t("退出了"+g.appLabel(true)+"仍未找到", "left "+g.appLabel(false)+" without finding it"))
	}
	if m, ok := s.ensureApp(g, st); !ok {
		return m
	}
	switch g.Kind {
	case KindTap:
		return s.tapGoal(g, st)
	case KindType:
		return s.typeGoal(g, st)
	case KindToggle:
		return s.toggle(g, st)
	case KindBrightness:
		return s.brightness(g, st)
	case KindSearch:
		return s.search(g, st)
	case KindSend:
		return s.send(g, st)
	case KindAddCart:
		return s.addCart(g, st)
	case KindNavigate:
		return s.navigate(g, st)
	}
	return failed("unknown goal " + g.Kind.String())
}

// pressOnce presses a key and is done on the next step.
func (s *screen) pressOnce(k string, st *State) move {
	if st.Phase == phaseActed {
		return done()
	}
	st.Phase = phaseActed
	return s.key(k)
}

func (s *screen) goHome(st *State) move {
	if s.app == pkgLauncher {
		return done()
	}
	if st.Phase >= 2 {
		return failed(s.t("按了主页键仍未回到桌面", "still not home after pressing home"))
	}
	st.Phase++
	return s.key("home")
}

func (s *screen) open(g Goal, st *State) move {
	if g.App != "" {
		if m, ok := s.ensureApp(g, st); !ok {
			return m
		}
		return done()
	}
	// An app the planner does not know: a launcher icon or an element
	// with that name may still open it.
	if st.Phase == phaseActed {
		return done()
	}
	why := s.t("未知应用“"+g.AppName+"”", "unknown app \""+g.AppName+"\"")
	if s.tree == nil {
		return failed(why)
	}
	if i, score := s.tree.FindElement(g.AppName); i >= 0 && score >= 90 {
		st.Phase = phaseActed
		return s.tap(i, st)
	}
	if s.app == pkgLauncher {
		return failed(why)
	}
	return s.lookFurther(st, why) // a page of the app in front, perhaps
}

func (s *screen) tapGoal(g Goal, st *State) move {
	if st.Phase == phaseActed {
		return done()
	}
	if n, ok := ordinal(g.Target); ok {
		if i := s.listNth(n); i >= 0 {
			st.Phase = phaseActed
			return s.tap(i, st)
		}
	} else if i, _ := s.tree.FindElement(g.Target); i >= 0 {
		st.Phase = phaseActed
		return s.tap(i, st)
	}
	return s.lookFurther(st, s.t("界面上找不到“"+g.Target+"”", "no element \""+g.Target+"\" on screen"))
}

// fieldWords are generic words for a text field in an instruction.
var fieldWords = []string{"输入框", "文本框", "框", "栏", "input box", "text box", "text field", "box", "field", "bar", "input", "area"}

// findField returns the text field (or search entry) the instruction
// names, or the focused or only field when it names none.
func (s *screen) findField(target string) int {
	t := strings.TrimSpace(target)
	lt := strings.ToLower(t)
	for _, w := range fieldWords {
		if strings.HasSuffix(lt, w) {
			t = strings.TrimSpace(t[:len(t)-len(w)])
			lt = strings.ToLower(t)
		}
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "the "), "The ")
	edits := s.tree.edits()
	if t == "" {
		if f := s.tree.focusedEdit(); f >= 0 {
			return f
		}
		if len(edits) > 0 {
			return edits[0]
		}
		return -1
	}
	qs := variants(t)
	isEdit := func(i int) bool { return s.tree.Nodes[i].isEdit() }
	if i, _ := s.tree.findElement(qs, isEdit); i >= 0 {
		return i
	}
	search := false
	for _, q := range qs {
		search = search || q == "搜索" || q == "search"
	}
	if search {
		if i := s.searchField(); i >= 0 {
			return i
		}
		return s.searchEntry()
	}
	if i, _ := s.tree.findElement(qs, func(int) bool { return true }); i >= 0 {
		return i
	}
	if len(edits) == 1 {
		return edits[0]
	}
	return -1
}

func (s *screen) typeGoal(g Goal, st *State) move {
	if f := s.tree.focusedEdit(); f >= 0 && (g.Target == "" || st.Taps > 0 || f == s.findField(g.Target)) {
		if sameText(s.tree.Nodes[f].Text, g.Text) {
			return done()
		}
		if st.Types >= maxTypes {
			return failed(s.t("输入后文字没有出现", "the text did not appear after typing"))
		}
		return s.typeText(g.Text, st)
	}
	if i := s.findField(g.Target); i >= 0 && st.Taps < maxTaps {
		return s.tap(i, st)
	}
	return s.back(st, s.t("找不到输入框", "no text field to type into"))
}

// search submits query g.Text in the search of the app in front.
func (s *screen) search(g Goal, st *State) move {
	if g.App == "" && (s.app == pkgLauncher || s.app == "") {
		g.App, g.AppName = pkgBrowser, "浏览器"
		if m, ok := s.ensureApp(g, st); !ok {
			return m
		}
	}
	q := g.Text
	if st.Phase == phaseSubmitted {
		if s.showsResult(q) || !s.sticky {
			return done()
		}
		if b := s.findButton("搜索", "search"); b >= 0 && st.Taps < maxTaps {
			return s.tap(b, st)
		}
		return done() // submitted; the app shows nothing more to check
	}
	if f := s.searchField(); f >= 0 {
		n := &s.tree.Nodes[f]
		if !n.Focused {
			if st.Taps >= maxTaps {
				return failed(s.t("搜索框无法获得焦点", "the search field does not take focus"))
			}
			return s.tap(f, st)
		}
		if sameText(n.Text, q) {
			st.Phase = phaseSubmitted
			return s.key("enter")
		}
		if st.Types >= maxTypes {
			return failed(s.t("输入搜索词失败", "typing the query failed"))
		}
		return s.typeText(q, st)
	}
	if e := s.searchEntry(); e >= 0 && st.Taps < maxTaps {
		return s.tap(e, st)
	}
	return s.back(st, s.t("找不到搜索入口", "no search box found"))
}

// showsResult reports whether q shows on screen outside a focused field.
func (s *screen) showsResult(q string) bool {
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if s.tree.visible(i) && !(n.isEdit() && n.Focused) && sameText(n.Text, q) {
			return true
		}
	}
	return false
}

// settingRow finds the row of setting set: its label node and its switch
// (-1 when it has none).
func (s *screen) settingRow(set *setting) (label, sw int) {
	label = -1
	for _, name := range set.labels {
		if label = s.tree.findExact(name, func(i int) bool { return !s.tree.Nodes[i].Checkable }); label >= 0 {
			break
		}
	}
	if label < 0 {
		label = s.findAny(append(append([]string(nil), set.labels...), set.names...), func(i int) bool {
			return !s.tree.Nodes[i].Checkable && !s.tree.Nodes[i].isEdit()
		})
	}
	if label < 0 {
		return -1, -1
	}
	row := s.tree.clickableAncestor(label)
	rb := s.tree.Nodes[row].Bounds
	lb := s.tree.Nodes[label].Bounds
	if row == label {
		rb.Top, rb.Bottom = lb.Top-lb.Height(), lb.Bottom+lb.Height()
	}
	sw = -1
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if !n.Checkable || !s.tree.visible(i) {
			continue
		}
		if _, y := n.Bounds.Center(); y >= rb.Top && y <= rb.Bottom && (s.tree.isAncestor(row, i) || row == label) {
			return label, i
		}
	}
	return label, -1
}

// findPage returns the entry of a settings page called one of names: a
// close match only, so a summary that mentions a word ("已连接") is not
// taken for a page ("连接").
func (s *screen) findPage(names []string) int {
	var qs []string
	for _, n := range names {
		qs = append(qs, variants(n)...)
	}
	i, score := s.tree.findElement(qs, func(i int) bool { return !s.tree.Nodes[i].isEdit() && !s.inTopBar(i) })
	if score < 80 {
		return -1
	}
	return i
}

// lookFurther scrolls, then goes back, then gives up. It never leaves the
// home screen, where back does nothing.
func (s *screen) lookFurther(st *State, why string) move {
	if i := s.tree.scrollable(); i >= 0 && st.Scrolls < maxScrolls {
		return s.scroll(i, st)
	}
	if s.app == pkgLauncher {
		return failed(why)
	}
	return s.back(st, why)
}

func (s *screen) toggle(g Goal, st *State) move {
	set := lookupSetting(g.Target)
	if set == nil {
		return failed("unknown setting " + g.Target)
	}
	label, sw := s.settingRow(set)
	switch {
	case label >= 0 && sw >= 0:
		if s.tree.Nodes[sw].Checked == g.On {
			return done()
		}
		if st.Taps >= maxTaps {
			return failed(s.t("开关没有变化", "the switch does not change"))
		}
		m := s.tap(s.tree.clickableAncestor(label), st)
		m.think = s.t("点击“"+s.label(label)+"”开关", "tap the \""+s.label(label)+"\" switch")
		return m
	case label >= 0 && st.Phase == phaseActed:
		return done() // a row without a switch: tapped once, nothing to read back
	case label >= 0:
		st.Phase = phaseActed
		return s.tap(s.tree.clickableAncestor(label), st)
	}
	if set.page != nil && st.Taps < maxTaps {
		if p := s.findPage(set.page); p >= 0 {
			return s.tap(p, st)
		}
	}
	return s.lookFurther(st, s.t("设置里找不到“"+set.labels[0]+"”", "no \""+set.labels[0]+"\" in Settings"))
}

// seekBar returns the brightness slider, or -1.
func (s *screen) seekBar() int {
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if strings.HasSuffix(n.Class, "SeekBar") && s.tree.visible(i) {
			return i
		}
	}
	return -1
}

func (s *screen) brightness(g Goal, st *State) move {
	bar := s.seekBar()
	if bar < 0 {
		if st.Taps < maxTaps {
			if p := s.findPage(brightnessPage); p >= 0 {
				return s.tap(p, st)
			}
		}
		return s.lookFurther(st, s.t("找不到亮度滑块", "no brightness slider found"))
	}
	n := &s.tree.Nodes[bar]
	cur, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(n.Text), "%"))
	if err != nil {
		cur = -1
	}
	want := g.Level
	switch g.Level {
	case LevelUp, LevelDown:
		if st.Phase == phaseNone {
			st.Phase, st.Base = phaseActed, max(cur, 0)
		}
		if g.Level == LevelUp {
			want = min(st.Base+30, 100)
		} else {
			want = max(st.Base-30, 0)
		}
	}
	switch {
	case cur < 0 && st.Taps > 0:
		return done() // the slider does not say its value: set once
	case want >= 100 && cur >= 99, want <= 0 && cur >= 0 && cur <= 1, want > 0 && want < 100 && cur >= 0 && abs(cur-want) <= 2:
		return done()
	case st.Taps >= maxTaps:
		return failed(s.t("亮度没有变化", "the brightness does not change"))
	}
	b := n.Bounds
	_, y := b.Center()
	x := b.Left + ((want*255+50)/100*b.Width()+254)/255
	switch {
	case want >= 100:
		x = s.w - 1 // past the end of the bar: the maximum
	case want <= 0:
		x = 0
	}
	st.Taps++
	m := s.swipe(b.Center())
	m.action.End.X, m.action.End.Y = int32(x), int32(y)
	m.think = s.t("拖动亮度滑块到"+levelText(want, true), "drag the brightness slider to "+levelText(want, false))
	return m
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
