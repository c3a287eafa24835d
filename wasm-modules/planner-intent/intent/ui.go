package intent

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rect is an element's bounds in screen pixels: [Left,Top][Right,Bottom].
type Rect struct {
	Left, Top, Right, Bottom int
}

// Center returns the point a tap on the element should land on.
func (r Rect) Center() (x, y int) { return (r.Left + r.Right) / 2, (r.Top + r.Bottom) / 2 }

// Empty reports whether the rectangle has no area.
func (r Rect) Empty() bool { return r.Right <= r.Left || r.Bottom <= r.Top }

// Width and Height of the rectangle.
func (r Rect) Width() int  { return r.Right - r.Left }
func (r Rect) Height() int { return r.Bottom - r.Top }

// contains reports whether o lies inside r.
func (r Rect) contains(o Rect) bool {
	return o.Left >= r.Left && o.Right <= r.Right && o.Top >= r.Top && o.Bottom <= r.Bottom
}

// ParseBounds parses uiautomator bounds, "[l,t][r,b]", tolerating spaces.
func ParseBounds(s string) (Rect, bool) {
	var v [4]int
	i := 0
	for k := 0; k < 4; k++ {
		for i < len(s) && (s[i] == '[' || s[i] == ']' || s[i] == ',' || s[i] == ' ') {
			i++
		}
		j := i
		if j < len(s) && s[j] == '-' {
			j++
		}
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(s[i:j])
		if err != nil {
			return Rect{}, false
		}
		v[k] = n
		i = j
	}
	for i < len(s) && (s[i] == ']' || s[i] == ' ') {
		i++
	}
	if i != len(s) {
		return Rect{}, false
	}
	return Rect{v[0], v[1], v[2], v[3]}, true
}

// Node is one element of a UI hierarchy dump.
type Node struct {
	Text, ResourceID, Class, Package, Desc string
	Bounds                                 Rect
	Checkable, Checked, Clickable          bool
	Enabled, Focusable, Focused            bool
	Scrollable, Selected, LongClickable    bool
	// Parent is the index of the parent node in Tree.Nodes, -1 for roots.
	Parent int
	Depth  int
}

// Tree is a parsed UI hierarchy: nodes in document order (parents first).
type Tree struct {
	Nodes []Node
	folds []*folded // normalized labels, filled lazily by fold
}

// Limits that keep parsing bounded on hostile input.
const (
	maxNodes = 20000
	maxDepth = 256
)

// Errors ParseXML returns alongside whatever it could read.
var (
	ErrNoHierarchy = errors.New("ui xml has no nodes")
	ErrMalformed   = errors.New("ui xml is malformed")
)

// ParseXML reads a uiautomator dump with a small tolerant scanner. It
// returns every node it could read; the error says whether the document was
// cut short or malformed, so a caller may still act on a partial tree.
func ParseXML(s string) (*Tree, error) {
	t := &Tree{Nodes: make([]Node, 0, strings.Count(s, "<node")+1)}
	var stack []int
	var bad bool
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		switch {
		case strings.HasPrefix(s[i:], "</node"):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			} else {
				bad = true
			}
			gt := strings.IndexByte(s[i:], '>')
			if gt < 0 {
				return t, parseResult(t, true)
			}
			i += gt + 1
		case strings.HasPrefix(s[i:], "<node") && i+5 < len(s) && isSpace(s[i+5]) || strings.HasPrefix(s[i:], "<node>") || strings.HasPrefix(s[i:], "<node/"):
			if len(t.Nodes) >= maxNodes {
				return t, parseResult(t, true)
			}
			n := Node{Parent: -1, Enabled: true, Depth: len(stack)}
			if len(stack) > 0 {
				n.Parent = stack[len(stack)-1]
			}
			end, selfClose, ok := readAttrs(s, i+5, &n)
			if !ok {
				bad = true
			}
			t.Nodes = append(t.Nodes, n)
			if !selfClose && ok {
				if len(stack) >= maxDepth {
					return t, parseResult(t, true)
				}
				stack = append(stack, len(t.Nodes)-1)
			}
			if end >= len(s) {
				open := len(stack) > 0 || (!selfClose && ok)
				return t, parseResult(t, bad || !ok || open)
			}
			i = end
		default:
			// <?xml ...?>, <hierarchy ...>, </hierarchy>, comments: skip.
			gt := strings.IndexByte(s[i+1:], '>')
			if gt < 0 {
				i = len(s)
				break
			}
			i += gt + 2
		}
	}
	return t, parseResult(t, bad || len(stack) > 0)
}

func parseResult(t *Tree, bad bool) error {
	switch {
	case len(t.Nodes) == 0:
		return ErrNoHierarchy
	case bad:
		return ErrMalformed
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nameStop marks the bytes that end an attribute name: one table load per
// byte instead of six comparisons (this loop is the scanner's hot spot).
var nameStop = func() (t [256]bool) {
	for _, c := range []byte("= \t\n\r>/<") {
		t[c] = true
	}
	return t
}()

// readAttrs reads attributes from s[i:] into n up to the tag's end. It
// returns the index after the tag, whether the tag closed itself, and
// whether the tag was well formed.
func readAttrs(s string, i int, n *Node) (end int, selfClose, ok bool) {
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return i, true, false
		}
		switch s[i] {
		case '>':
			return i + 1, false, true
		case '/':
			if i+1 < len(s) && s[i+1] == '>' {
				return i + 2, true, true
			}
			return i + 1, true, false
		case '<':
			return i, true, false // a new tag began: this one was cut short
		}
		k := i
		for i < len(s) && !nameStop[s[i]] {
			i++
		}
		name := s[k:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			if name == "" {
				i++ // a stray character: skip it
			}
			continue // an attribute without a value
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
			return i, true, false
		}
		q := s[i]
		j := strings.IndexByte(s[i+1:], q)
		if j < 0 {
			return len(s), true, false
		}
		setAttr(n, name, s[i+1:i+1+j])
		i += j + 2
	}
}

func setAttr(n *Node, name, raw string) {
	switch name {
	case "text":
		n.Text = unescape(raw)
	case "resource-id":
		n.ResourceID = unescape(raw)
	case "class":
		n.Class = unescape(raw)
	case "package":
		n.Package = unescape(raw)
	case "content-desc":
		n.Desc = unescape(raw)
	case "bounds":
		n.Bounds, _ = ParseBounds(raw)
	case "checkable":
		n.Checkable = raw == "true"
	case "checked":
		n.Checked = raw == "true"
	case "clickable":
		n.Clickable = raw == "true"
	case "enabled":
		n.Enabled = raw != "false"
	case "focusable":
		n.Focusable = raw == "true"
	case "focused":
		n.Focused = raw == "true"
	case "scrollable":
		n.Scrollable = raw == "true"
	case "selected":
		n.Selected = raw == "true"
	case "long-clickable":
		n.LongClickable = raw == "true"
	}
}

// unescape decodes XML entities; unknown ones are kept as written.
func unescape(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		semi := strings.IndexByte(s[i:], ';')
		if semi < 0 || semi > 10 {
			b.WriteByte(c)
			i++
			continue
		}
		ent := s[i+1 : i+semi]
		switch {
		case ent == "amp":
			b.WriteByte('&')
		case ent == "lt":
			b.WriteByte('<')
		case ent == "gt":
			b.WriteByte('>')
		case ent == "quot":
			b.WriteByte('"')
		case ent == "apos":
			b.WriteByte('\'')
		case len(ent) > 1 && ent[0] == '#':
			var v uint64
			var err error
			if ent[1] == 'x' || ent[1] == 'X' {
				v, err = strconv.ParseUint(ent[2:], 16, 32)
			} else {
				v, err = strconv.ParseUint(ent[1:], 10, 32)
			}
			if err != nil || !utf8.ValidRune(rune(v)) {
				b.WriteString(s[i : i+semi+1])
			} else {
				b.WriteRune(rune(v))
			}
		default:
			b.WriteString(s[i : i+semi+1])
		}
		i += semi + 1
	}
	return b.String()
}

// Package returns the package of the root node, "" for an empty tree.
func (t *Tree) Package() string {
	for i := range t.Nodes {
		if t.Nodes[i].Package != "" {
			return t.Nodes[i].Package
		}
	}
	return ""
}

// isAncestor reports whether node a is an ancestor of node d.
func (t *Tree) isAncestor(a, d int) bool {
	for p := t.Nodes[d].Parent; p >= 0; p = t.Nodes[p].Parent {
		if p == a {
			return true
		}
	}
	return false
}

// clickableAncestor returns i or its nearest clickable ancestor, or i
// itself when none is clickable.
func (t *Tree) clickableAncestor(i int) int {
	for j := i; j >= 0; j = t.Nodes[j].Parent {
		if t.Nodes[j].Clickable {
			return j
		}
	}
	return i
}

// visible reports whether node i has an area.
func (t *Tree) visible(i int) bool { return !t.Nodes[i].Bounds.Empty() }

// isEdit reports whether the node is a text field.
func (n *Node) isEdit() bool {
	return strings.HasSuffix(n.Class, "EditText") || strings.HasSuffix(n.Class, "AutoCompleteTextView")
}

// focusedEdit returns the focused text field, or -1.
func (t *Tree) focusedEdit() int {
	for i := range t.Nodes {
		if t.Nodes[i].Focused && t.Nodes[i].isEdit() && t.visible(i) {
			return i
		}
	}
	return -1
}

// edits returns the visible text fields.
func (t *Tree) edits() []int {
	var out []int
	for i := range t.Nodes {
		if t.Nodes[i].isEdit() && t.visible(i) {
			out = append(out, i)
		}
	}
	return out
}

// scrollable returns the largest visible scrollable node, or -1.
func (t *Tree) scrollable() int {
	best, area := -1, 0
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Scrollable && t.visible(i) {
			if a := n.Bounds.Width() * n.Bounds.Height(); a > area {
				best, area = i, a
			}
		}
	}
	return best
}

// Signature is a cheap hash of what the screen shows (FNV-1a over texts,
// ids, descriptions, states and bounds), to tell whether an action changed
// anything.
func (t *Tree) Signature() uint32 {
	h := uint32(2166136261)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint32(s[i])
			h *= 16777619
		}
		h ^= 0xff
		h *= 16777619
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		add(n.Text)
		add(n.ResourceID)
		add(n.Desc)
		b := n.Bounds
		for _, v := range [4]int{b.Left, b.Top, b.Right, b.Bottom} {
			h ^= uint32(v)
			h *= 16777619
		}
		if n.Checked || n.Focused || n.Selected {
			add("s")
		}
	}
	return h
}
