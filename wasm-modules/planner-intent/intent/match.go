package intent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalize folds s for matching: lower case, full-width ASCII to
// half-width, and spaces and punctuation dropped.
func normalize(s string) string {
	if isNormal(s) {
		return s // most labels are: no copy
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xff01 && r <= 0xff5e {
			r -= 0xfee0
		}
		switch {
		case r == utf8.RuneError:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// isNormal reports whether normalize(s) == s: only lower-case letters and
// digits, none of them full-width.
func isNormal(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
		case r < utf8.RuneSelf:
			return false
		case r >= 0xff01 && r <= 0xff5e, r == utf8.RuneError:
			return false
		case !unicode.IsLetter(r) && !unicode.IsDigit(r), unicode.IsUpper(r):
			return false
		}
	}
	return true
}

// uiSynonyms maps English words of instructions to the Chinese labels the
// apps show, and back, so "tap About phone" finds 关于手机.
var uiSynonyms = [][]string{
	{"关于手机", "about phone", "about"},
	{"显示与亮度", "display", "display brightness", "display and brightness"},
	{"电池", "battery"},
	{"搜索", "search"},
	{"发送", "send"},
	{"返回", "back"},
	{"加入购物车", "add to cart", "add to bag"},
	{"立即购买", "buy now"},
	{"购物车", "cart", "shopping cart"},
	{"结算", "checkout", "check out"},
	{"去结算", "go to checkout"},
	{"提交订单", "submit order", "place order"},
	{"通讯录", "contacts", "contact list"},
	{"发现", "discover"},
	{"我", "me"},
	{"我的淘宝", "my taobao"},
	{"首页", "home page", "home tab"},
	{"消息", "messages"},
	{"订单", "orders"},
	{"我的", "mine", "profile"},
	{"发消息", "send message"},
	{"路线", "route", "directions"},
	{"导航", "navigate", "navigation"},
	{"开始导航", "start navigation"},
	{"退出导航", "exit navigation", "stop navigation"},
	{"朋友圈", "moments"},
	{"扫一扫", "scan"},
	{"设置", "settings"},
	{"蓝牙", "bluetooth"},
	{"飞行模式", "airplane mode", "flight mode"},
	{"深色模式", "dark mode"},
	{"自动调节亮度", "auto brightness", "adaptive brightness"},
	{"文件传输助手", "file transfer"},
	{"美食", "food"},
	{"外卖", "delivery", "takeout"},
	{"咖啡", "coffee"},
	{"奶茶", "milk tea"},
	{"火锅", "hotpot", "hot pot"},
}

// synonymIndex maps each normalized synonym to its normalized group.
var synonymIndex = indexSynonyms()

func indexSynonyms() map[string][]string {
	m := map[string][]string{}
	for _, group := range uiSynonyms {
		var g []string
		for _, w := range group {
			g = append(g, normalize(w))
		}
		for _, w := range g {
			if _, ok := m[w]; !ok {
				m[w] = g
			}
		}
	}
	return m
}

// variants returns the normalized forms a target may take on screen: the
// target itself and its synonyms.
func variants(target string) []string {
	q := normalize(target)
	if q == "" {
		return nil
	}
	out := []string{q}
	for _, v := range synonymIndex[q] {
		if v != q {
			out = append(out, v)
		}
	}
	return out
}

// maxSimilarRunes is the longest text similarity compares: longer texts
// are descriptions, not labels.
const maxSimilarRunes = 48

// similarity is the Dice coefficient of the rune bigrams of a and b, in
// [0, 1]; single runes compare equal or not. It allocates nothing.
func similarity(a, b string) float64 {
	if a == b {
		return 1
	}
	var ra, rb [maxSimilarRunes]rune
	na, nb := 0, 0
	for _, r := range a {
		if na == maxSimilarRunes {
			return 0
		}
		ra[na] = r
		na++
	}
	for _, r := range b {
		if nb == maxSimilarRunes {
			return 0
		}
		rb[nb] = r
		nb++
	}
	if na < 2 || nb < 2 {
		return 0
	}
	var used [maxSimilarRunes]bool
	common := 0
	for i := 0; i+1 < nb; i++ {
		for j := 0; j+1 < na; j++ {
			if !used[j] && ra[j] == rb[i] && ra[j+1] == rb[i+1] {
				used[j] = true
				common++
				break
			}
		}
	}
	return 2 * float64(common) / float64(na+nb-2)
}

// fieldScore scores how well the normalized field f matches the
// normalized query q, out of 100.
func fieldScore(f, q string) int {
	switch {
	case f == "" || q == "":
		return 0
	case f == q:
		return 100
	case strings.Contains(f, q):
		// The label contains the target: good, better when little else.
		lf, lq := utf8.RuneCountInString(f), utf8.RuneCountInString(q)
		return max(60, 90-30*(lf-lq)/max(lf, 1))
	case utf8.RuneCountInString(f) >= 2 && strings.Contains(q, f):
		lf, lq := utf8.RuneCountInString(f), utf8.RuneCountInString(q)
		return 40 + 40*lf/max(lq, 1)
	}
	if s := similarity(f, q); s >= 0.5 {
		return int(70 * s)
	}
	return 0
}

// idTail returns the part of a resource-id after ":id/", with underscores
// as spaces ("com.tencent.mm:id/send_msg" → "send msg").
func idTail(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		id = id[i+1:]
	}
	return strings.ReplaceAll(id, "_", " ")
}

// folded is a node's text, content-desc and resource-id tail, normalized.
type folded struct{ text, desc, id string }

// fold returns node i's normalized labels, computed once per tree.
func (t *Tree) fold(i int) *folded {
	if t.folds == nil {
		t.folds = make([]*folded, len(t.Nodes))
	}
	if f := t.folds[i]; f != nil {
		return f
	}
	n := &t.Nodes[i]
	f := &folded{normalize(n.Text), normalize(n.Desc), normalize(idTail(n.ResourceID))}
	t.folds[i] = f
	return f
}

// nodeScore scores node i against the target variants qs, out of 100.
func (t *Tree) nodeScore(i int, qs []string) int {
	best := 0
	f := t.fold(i)
	text, desc, id := f.text, f.desc, f.id
	for _, q := range qs {
		best = max(best, fieldScore(text, q), fieldScore(desc, q)*95/100, fieldScore(id, q)*80/100)
	}
	return best
}

// matchThreshold is the lowest score FindElement accepts.
const matchThreshold = 50

// FindElement returns the index of the visible node that best matches
// target by text, content-desc or resource-id, with its score, or -1.
// Ties go to nodes that are (or sit in) a clickable element, then to the
// first in document order.
func (t *Tree) FindElement(target string) (int, int) {
	return t.findElement(variants(target), func(int) bool { return true })
}

func (t *Tree) findElement(qs []string, ok func(int) bool) (int, int) {
	best, bestScore := -1, 0
	for i := range t.Nodes {
		if !t.visible(i) || !ok(i) {
			continue
		}
		s := t.nodeScore(i, qs)
		if s < matchThreshold {
			continue
		}
		if t.Nodes[t.clickableAncestor(i)].Clickable {
			s += 5
		}
		if !t.Nodes[i].Enabled {
			s -= 10
		}
		if s > bestScore {
			best, bestScore = i, s
		}
	}
	return best, bestScore
}

// findExact returns the first visible node whose text or content-desc is
// exactly name (after normalization) and that ok accepts, or -1.
func (t *Tree) findExact(name string, ok func(int) bool) int {
	q := normalize(name)
	if q == "" {
		return -1
	}
	for i := range t.Nodes {
		if f := t.fold(i); t.visible(i) && ok(i) && (f.text == q || f.desc == q) {
			return i
		}
	}
	return -1
}
