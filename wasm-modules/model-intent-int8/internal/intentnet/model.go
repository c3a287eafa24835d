package intentnet

import (
	"math"
	"strconv"
	"strings"
)

// App is one name of an app the model knows: an alias as instructions
// write it, its package and display name.
type App struct{ Alias, Package, Name string }

// Setting maps a surface form ("WLAN", "dark mode") to a setting key.
type Setting struct{ Surface, Key string }

// Model is the student: the intent net, the tagger, and the lexicons
// that turn slot spans into packages and setting keys. A Model is
// read-only after Decode and safe for concurrent use.
type Model struct {
	Intent, Tagger     Forwarder
	BucketsS, BucketsT int
	Apps               []App
	Settings           []Setting
}

// Slot is a span of the cleaned instruction tagged with a slot type.
type Slot struct {
	Type, Value string
	Start, End  int // rune offsets in the cleaned instruction
}

// Prediction is what the model says about one instruction.
type Prediction struct {
	Intent     string
	Confidence float32 // probability of Intent
	Attr       string
	AttrConf   float32
	Slots      []Slot
	Goals      []Goal
}

// Predict runs the model on an instruction. Any string is accepted; an
// empty one is intent "none".
func (m *Model) Predict(instruction string) Prediction {
	rs := Clean(instruction)
	if len(rs) == 0 || m == nil || m.Intent == nil || m.Tagger == nil {
		return Prediction{Intent: "none", Confidence: 1, Attr: "none", AttrConf: 1}
	}
	var p Prediction
	p.Intent, p.Confidence, p.Attr, p.AttrConf = m.Classify(rs)
	p.Slots = Spans(rs, m.Tag(rs))
	p.Goals = m.goals(p, rs)
	return p
}

// Classify returns the intent and attribute with their probabilities.
func (m *Model) Classify(rs []rune) (intent string, conf float32, attr string, attrConf float32) {
	var ob [64]float32
	out := m.Intent.Forward(SentenceFeatures(rs, m.BucketsS), ob[:])
	i, c := argmaxSoftmax(out[:len(Intents)])
	a, ac := argmaxSoftmax(out[len(Intents):])
	return Intents[i], c, Attrs[a], ac
}

// Tag returns the greedy BIO tag of every rune.
func (m *Model) Tag(rs []rune) []int {
	static := StaticTokenFeatures(rs, m.BucketsT)
	tags := make([]int, len(rs))
	var buf []uint32
	var ob [64]float32
	p1, p2 := -1, -1
	for i := range rs {
		buf = TokenFeatures(buf, static[i], p1, p2, m.BucketsT)
		out := m.Tagger.Forward(buf, ob[:])
		t, _ := argmaxSoftmax(out)
		if k, begin := TagType(t); k >= 0 && !begin {
			if pk, _ := TagType(p1); pk != k {
				t = TagB(k) // I-x must continue an x span
			}
		}
		tags[i] = t
		p1, p2 = t, p1
	}
	return tags
}

// Spans reads slots out of BIO tags, trimming spaces and quotes.
func Spans(rs []rune, tags []int) []Slot {
	var slots []Slot
	start, typ := -1, -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		s, e := start, end
		for s < e && strings.ContainsRune(" \"“”'‘’「」『』", rs[s]) {
			s++
		}
		for e > s && strings.ContainsRune(" \"“”'‘’「」『』", rs[e-1]) {
			e--
		}
		if e > s {
			slots = append(slots, Slot{Type: SlotTypes[typ], Value: string(rs[s:e]), Start: s, End: e})
		}
		start, typ = -1, -1
	}
	for i, t := range tags {
		k, begin := TagType(t)
		switch {
		case k < 0:
			flush(i)
		case begin || k != typ:
			flush(i)
			start, typ = i, k
		}
	}
	flush(len(tags))
	return slots
}

func argmaxSoftmax(v []float32) (int, float32) {
	if len(v) == 0 {
		return 0, 0
	}
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	var sum float64
	for _, x := range v {
		sum += math.Exp(float64(x - v[best]))
	}
	return best, float32(1 / sum)
}

// LookupApp returns the app called name (any case, an "app"/"应用"
// suffix allowed), or nil.
func (m *Model) LookupApp(name string) *App {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, suf := range []string{" app", "app", "应用", "软件", "客户端"} {
		if t := strings.TrimSpace(strings.TrimSuffix(n, suf)); t != n && t != "" {
			n = t
			break
		}
	}
	for i := range m.Apps {
		if strings.ToLower(m.Apps[i].Alias) == n {
			return &m.Apps[i]
		}
	}
	return nil
}

// settingKey returns the key of the setting called name, or "".
func (m *Model) settingKey(name string) string {
	n := normSetting(name)
	for _, s := range m.Settings {
		if normSetting(s.Surface) == n {
			return s.Key
		}
	}
	return ""
}

func normSetting(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("-", "", " ", "", "the", "", "mode", "", "模式", "", "功能", "").Replace(s)
	return s
}

// level is the brightness level an attribute means: 0..100, or -1
// brighter, -2 dimmer; ok is false for a percentage with no number.
func level(attr string, rs []rune) (int, bool) {
	switch attr {
	case "max":
		return 100, true
	case "min":
		return 0, true
	case "up":
		return -1, true
	case "down":
		return -2, true
	case "pct":
		for i := 0; i < len(rs); i++ {
			j := i
			for j < len(rs) && j-i < 3 && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			if j > i {
				n, err := strconv.Atoi(string(rs[i:j]))
				if err == nil && n <= 100 {
					return n, true
				}
				i = j
			}
		}
	}
	return 0, false
}
