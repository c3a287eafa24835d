package intent

import (
	"regexp"
	"strings"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// move is what one sub-goal decides at one step: an action, done, or a
// failure with its reason.
type move struct {
	action *cpv1.Action
	think  string
	done   bool
	fail   string
}

// Per-goal bounds on repeated moves.
const (
	maxLaunches = 2
	maxTaps     = 3
	maxTypes    = 3
	maxScrolls  = 3
	maxBacks    = 4
)

func done() move             { return move{done: true} }
func failed(why string) move { return move{fail: why} }

// label names node i for people: its text or description, what it is
// (a search box, a text field), or the first text inside it.
func (s *screen) label(i int) string {
	n := &s.tree.Nodes[i]
	switch {
	case n.isEdit() && s.looksLikeSearch(i):
		return s.t("搜索框", "search box")
	case n.isEdit():
		return s.t("输入框", "text field")
	case n.Text != "":
		return n.Text
	case n.Desc != "":
		return n.Desc
	case s.looksLikeSearch(i):
		return s.t("搜索框", "search box")
	}
	for j := i + 1; j < len(s.tree.Nodes) && s.tree.isAncestor(i, j); j++ {
		if t := s.tree.Nodes[j].Text; t != "" {
			return t
		}
	}
	if n.ResourceID != "" {
		return idTail(n.ResourceID)
	}
	return n.Class
}

// tap taps the center of node i.
func (s *screen) tap(i int, st *State) move {
	st.Taps++
	x, y := s.tree.Nodes[i].Bounds.Center()
	return move{
		action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: int32(x), Y: int32(y)}},
		think:  s.t("点击“"+s.label(i)+"”", "tap \""+s.label(i)+"\""),
	}
}

func (s *screen) launch(g Goal, st *State) move {
	st.Launches++
	name := g.appLabel(s.zh)
	return move{
		action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: g.App, App: AppByPackage(g.App).Name},
		think:  s.t("启动"+name, "launch "+name),
	}
}

func (s *screen) key(k string) move {
	think := map[string][2]string{
		"back":  {"按返回键", "press back"},
		"home":  {"回到桌面", "go to the home screen"},
		"enter": {"按回车提交", "press enter to submit"},
	}[k]
	return move{action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: k}, think: s.t(think[0], think[1])}
}

// back presses back to leave a screen, bounded by maxBacks.
func (s *screen) back(st *State, why string) move {
	if st.Backs >= maxBacks || s.app == pkgLauncher {
		return failed(why)
	}
	st.Backs++
	m := s.key("back")
	m.think = s.t("没有找到需要的元素，返回上一页", "nothing to use here; go back")
	return m
}

func (s *screen) typeText(text string, st *State) move {
	st.Types++
	return move{
		action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: text, ClearText: true},
		think:  s.t("输入“"+text+"”", "type \""+text+"\""),
	}
}

// scroll swipes the content of scrollable node i up, to see more below.
func (s *screen) scroll(i int, st *State) move {
	st.Scrolls++
	b := s.tree.Nodes[i].Bounds
	x := (b.Left + b.Right) / 2
	return move{
		action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE,
			Point: &cpv1.Point{X: int32(x), Y: int32(b.Top + b.Height()*3/4)},
			End:   &cpv1.Point{X: int32(x), Y: int32(b.Top + b.Height()/4)}, DurationMs: 300},
		think: s.t("向下滑动查找", "scroll down to look further"),
	}
}

// ensureApp brings g.App to the front. It returns ok when it already is.
func (s *screen) ensureApp(g Goal, st *State) (move, bool) {
	if g.App == "" || s.app == g.App {
		return move{}, true
	}
	if AppByPackage(g.App) == nil || st.Launches >= maxLaunches {
		return failed(s.t("无法打开"+g.appLabel(true)+"（当前在 "+s.app+"），可能未安装",
			"cannot open "+g.appLabel(false)+" (still in "+s.app+"); is it installed?")), false
	}
	return s.launch(g, st), false
}

// sameText compares texts as people read them: trimmed, and equal after
// folding case, width and punctuation.
func sameText(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a == b || (normalize(a) != "" && normalize(a) == normalize(b))
}

// inTopBar reports whether node i sits in the title bar area.
func (s *screen) inTopBar(i int) bool {
	_, y := s.tree.Nodes[i].Bounds.Center()
	return y < s.h*12/100
}

// looksLikeSearch reports whether node i is a search field or entry.
func (s *screen) looksLikeSearch(i int) bool {
	n := &s.tree.Nodes[i]
	id := strings.ToLower(idTail(n.ResourceID))
	for _, w := range []string{"search", "query", "keyword", "url"} {
		if strings.Contains(id, w) {
			return true
		}
	}
	f := s.tree.fold(i)
	for _, txt := range []string{f.text, f.desc} {
		for _, w := range []string{"搜索", "search", "查找", "网址"} {
			if strings.Contains(txt, w) {
				return true
			}
		}
	}
	return false
}

// searchField returns a visible text field to search with, focused ones
// first: one that looks like search, or one at the top of the screen.
func (s *screen) searchField() int {
	best := -1
	for _, i := range s.tree.edits() {
		if !s.looksLikeSearch(i) && !s.inTopBar(i) {
			continue
		}
		if s.tree.Nodes[i].Focused {
			return i
		}
		if best < 0 {
			best = i
		}
	}
	return best
}

// searchEntry returns a clickable element that opens search (a search
// icon, a fake search box), or -1; the widest wins.
func (s *screen) searchEntry() int {
	best, width := -1, 0
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if !n.Clickable || n.isEdit() || !s.tree.visible(i) || !s.looksLikeSearch(i) {
			continue
		}
		if w := n.Bounds.Width(); w > width {
			best, width = i, w
		}
	}
	return best
}

// isList reports whether node i is a list container.
func (s *screen) isList(i int) bool {
	n := &s.tree.Nodes[i]
	return n.Scrollable || strings.HasSuffix(n.Class, "RecyclerView") || strings.HasSuffix(n.Class, "ListView") ||
		strings.HasSuffix(n.Class, "GridView")
}

// inList reports whether node i is inside a list container.
func (s *screen) inList(i int) bool {
	for p := s.tree.Nodes[i].Parent; p >= 0; p = s.tree.Nodes[p].Parent {
		if s.isList(p) {
			return true
		}
	}
	return false
}

// listItem returns the list entry that best matches query, or with
// anyItem, the first clickable entry of a list when none matches; -1 when
// the screen has no list.
func (s *screen) listItem(query string, anyItem bool) int {
	if q := variants(query); q != nil {
		i, _ := s.tree.findElement(q, func(i int) bool {
			return s.inList(i) && !s.tree.Nodes[i].isEdit() && !s.inTopBar(i)
		})
		if i >= 0 {
			return i
		}
	}
	if !anyItem {
		return -1
	}
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if n.Clickable && s.tree.visible(i) && s.inList(i) && n.Bounds.Height() >= s.h/40 && s.hasText(i) {
			return i
		}
	}
	return -1
}

// hasText reports whether node i or a descendant shows text.
func (s *screen) hasText(i int) bool {
	for j := i; j < len(s.tree.Nodes); j++ {
		if j != i && !s.tree.isAncestor(i, j) {
			break
		}
		if s.tree.Nodes[j].Text != "" {
			return true
		}
	}
	return false
}

// findAny returns the best visible match for any of names, or -1.
func (s *screen) findAny(names []string, ok func(int) bool) int {
	var qs []string
	for _, n := range names {
		qs = append(qs, variants(n)...)
	}
	i, _ := s.tree.findElement(qs, ok)
	return i
}

// findButton returns a clickable element (or one inside a clickable
// element) labelled exactly one of names, or -1.
func (s *screen) findButton(names ...string) int {
	for _, name := range names {
		for _, v := range variants(name) {
			for i := range s.tree.Nodes {
				n := &s.tree.Nodes[i]
				if !s.tree.visible(i) || n.isEdit() || !s.tree.Nodes[s.tree.clickableAncestor(i)].Clickable || !n.Enabled {
					continue
				}
				if f := s.tree.fold(i); f.text == v || f.desc == v || f.id == v {
					return i
				}
			}
		}
	}
	return -1
}

// swipe starts a swipe at (x, y); the caller sets its end.
func (s *screen) swipe(x, y int) move {
	return move{action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE,
		Point: &cpv1.Point{X: int32(x), Y: int32(y)}, End: &cpv1.Point{X: int32(x), Y: int32(y)}, DurationMs: 300}}
}

var (
	reOrdinalZh  = regexp.MustCompile(`^第\s*([一二三四五六七八九十]|\d{1,2})\s*(?:个|条|项|家|款|件)?`)
	reOrdinalEn  = regexp.MustCompile(`(?i)^(?:the )?(first|second|third|fourth|fifth|last|\d{1,2}(?:st|nd|rd|th))\b`)
	ordinalWords = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
		"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
)

// ordinal reads "第一个商品", "the first item", "2nd result": the n-th
// entry of a list (1-based; -1 for the last).
func ordinal(target string) (int, bool) {
	m := reOrdinalZh.FindStringSubmatch(target)
	if m == nil {
		m = reOrdinalEn.FindStringSubmatch(target)
	}
	if m == nil {
		return 0, false
	}
	w := strings.ToLower(m[1])
	if n, ok := ordinalWords[w]; ok {
		return n, true
	}
	n := 0
	for _, c := range w {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// listNth returns the n-th clickable entry with text of the screen's
// lists (1-based, -1 for the last), or -1.
func (s *screen) listNth(n int) int {
	var items []int
	for i := range s.tree.Nodes {
		nd := &s.tree.Nodes[i]
		if nd.Clickable && s.tree.visible(i) && s.inList(i) && nd.Bounds.Height() >= s.h/40 && s.hasText(i) {
			if len(items) > 0 && s.tree.isAncestor(items[len(items)-1], i) {
				continue // a button inside the previous entry
			}
			items = append(items, i)
		}
	}
	switch {
	case n == -1 && len(items) > 0:
		return items[len(items)-1]
	case n >= 1 && n <= len(items):
		return items[n-1]
	}
	return -1
}
