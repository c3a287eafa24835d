package distill

import (
	"strings"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-intent/intent"
)

// Labeled is an instruction with the teacher's labels.
type Labeled struct {
	Text     string
	Template string
	Runes    []rune // intentnet.Clean(Text)
	Intent   int    // index in intentnet.Intents
	Attr     int    // index in intentnet.Attrs
	Tags     []int  // BIO tag per rune
	// SlotOK is false when a slot value could not be found in the text;
	// such examples train the intent net only and are left out of slot
	// metrics.
	SlotOK bool
	Slots  []intentnet.Slot
}

// Label runs the teacher on text.
func Label(text, template string) Labeled {
	l := Labeled{Text: text, Template: template, Runes: intentnet.Clean(text), SlotOK: true}
	l.Tags = make([]int, len(l.Runes))
	goals, err := intent.Parse(text)
	if err != nil || len(goals) == 0 {
		return l // none, no slots
	}
	name := collapse(goals)
	l.Intent = intentnet.Index(intentnet.Intents, name)
	l.Attr = attrOf(name, goals[0])
	type want struct{ typ, val string }
	var wants []want
	add := func(typ, val string) {
		if val = strings.TrimSpace(val); val != "" {
			wants = append(wants, want{typ, val})
		}
	}
	var apps []intent.Goal
	for _, g := range goals {
		if g.App != "" || g.AppName != "" {
			apps = append(apps, g)
		}
		switch g.Kind {
		case intent.KindTap:
			add("element", g.Target)
		case intent.KindType:
			add("element", g.Target)
			add("text", g.Text)
		case intent.KindToggle:
			add("setting", g.Target)
		case intent.KindSearch, intent.KindAddCart:
			add("query", g.Text)
		case intent.KindSend:
			add("contact", g.Contact)
			add("text", g.Text)
		case intent.KindNavigate:
			add("query", g.Target)
		}
	}
	taken := make([]bool, len(l.Runes))
	low := []rune(strings.ToLower(string(l.Runes)))
	if len(low) != len(l.Runes) {
		low = l.Runes
	}
	place := func(typ string, forms []string, required bool) {
		k := intentnet.Index(intentnet.SlotTypes, typ)
		for _, s := range l.Slots {
			for _, f := range forms {
				if s.Type == typ && strings.EqualFold(s.Value, f) {
					return // already placed
				}
			}
		}
		for _, f := range forms {
			fr := []rune(strings.ToLower(f))
			for st := 0; st+len(fr) <= len(low); st++ {
				if !match(low[st:], fr) || anyTaken(taken[st:st+len(fr)]) {
					continue
				}
				for i := st; i < st+len(fr); i++ {
					taken[i] = true
					l.Tags[i] = intentnet.TagI(k)
				}
				l.Tags[st] = intentnet.TagB(k)
				l.Slots = append(l.Slots, intentnet.Slot{Type: typ, Value: string(l.Runes[st : st+len(fr)]), Start: st, End: st + len(fr)})
				return
			}
		}
		if required {
			l.SlotOK = false
		}
	}
	for _, g := range apps {
		forms := []string{g.AppName}
		if a := intent.AppByPackage(g.App); a != nil {
			forms = appForms(a)
		}
		place("app", forms, g.Kind == intent.KindOpen && g.App == "")
	}
	for _, typ := range []string{"setting", "contact", "element", "query", "text"} {
		for _, w := range wants {
			if w.typ != typ {
				continue
			}
			forms := []string{w.val}
			if typ == "setting" {
				forms = settingForms(w.val)
			}
			place(typ, forms, true)
		}
	}
	return l
}

// appForms are an app's names, longest first.
func appForms(a *intent.App) []string {
	forms := append([]string{a.Name}, a.Aliases...)
	sortLongestFirst(forms)
	return forms
}

func settingForms(key string) []string {
	var forms []string
	for _, s := range Settings {
		if s[1] == key {
			forms = append(forms, s[0])
		}
	}
	sortLongestFirst(forms)
	return forms
}

func sortLongestFirst(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && len([]rune(s[j])) > len([]rune(s[j-1])); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func match(s, p []rune) bool {
	for i := range p {
		if s[i] != p[i] {
			return false
		}
	}
	return true
}

func anyTaken(t []bool) bool {
	for _, v := range t {
		if v {
			return true
		}
	}
	return false
}

// collapse names the intent of the teacher's goals.
func collapse(gs []intent.Goal) string {
	switch {
	case len(gs) == 1:
		return gs[0].Kind.String()
	case len(gs) == 2 && gs[0].Kind == intent.KindSearch && gs[1].Kind == intent.KindNavigate:
		return "navigate"
	case len(gs) == 2 && gs[0].Kind == intent.KindSearch && gs[1].Kind == intent.KindAddCart && gs[1].Text == gs[0].Text && gs[0].Text != "":
		return "add_cart"
	}
	return "multi"
}

// attrOf is the attribute of a single toggle or brightness goal.
func attrOf(name string, g intent.Goal) int {
	a := "none"
	switch name {
	case "toggle":
		a = "off"
		if g.On {
			a = "on"
		}
	case "brightness":
		switch g.Level {
		case 100:
			a = "max"
		case 0:
			a = "min"
		case intent.LevelUp:
			a = "up"
		case intent.LevelDown:
			a = "down"
		default:
			a = "pct"
		}
	}
	return intentnet.Index(intentnet.Attrs, a)
}

// SlotSet is a canonical string of an example's slots, for exact match.
func SlotSet(slots []intentnet.Slot) string {
	parts := make([]string, 0, len(slots))
	for _, s := range slots {
		parts = append(parts, s.Type+"="+strings.ToLower(s.Value))
	}
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && parts[j] < parts[j-1]; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	return strings.Join(parts, "|")
}
