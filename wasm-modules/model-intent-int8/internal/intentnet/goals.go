package intentnet

import (
	"strconv"
	"strings"
)

// Goal is one sub-goal, as planner-intent's parser would write it. Kind
// is an intent name (open, tap, type, toggle, brightness, search, send,
// add_cart, back, home, enter, navigate). On is set for toggle, Level for
// brightness (0..100, -1 brighter, -2 dimmer).
type Goal struct {
	Kind                  string
	App, AppName          string
	Target, Text, Contact string
	On                    bool
	Level                 int
}

// Apps the goals default to.
const (
	pkgWeChat   = "com.tencent.mm"
	pkgTaobao   = "com.taobao.taobao"
	pkgMeituan  = "com.sankuai.meituan"
	pkgAmap     = "com.autonavi.minimap"
	pkgSettings = "com.android.settings"
)

// goals builds the sub-goals of a single-intent prediction from its
// slots. It returns nil for none and multi, and when a slot the intent
// needs is missing: the caller then falls back to a full planner.
func (m *Model) goals(p Prediction, rs []rune) []Goal {
	slot := func(t string) string {
		for _, s := range p.Slots {
			if s.Type == t {
				return s.Value
			}
		}
		return ""
	}
	app, appName := "", ""
	if a := slot("app"); a != "" {
		appName = a
		if x := m.LookupApp(a); x != nil {
			app, appName = x.Package, x.Name
		}
	}
	inApp := func(pkg string) (string, string) {
		if app == "" {
			for _, a := range m.Apps {
				if a.Package == pkg {
					return a.Package, a.Name
				}
			}
			return pkg, ""
		}
		return app, appName
	}
	switch p.Intent {
	case "open":
		if appName == "" {
			return nil
		}
		return []Goal{{Kind: "open", App: app, AppName: appName}}
	case "tap":
		if t := slot("element"); t != "" {
			return []Goal{{Kind: "tap", App: app, AppName: appName, Target: t}}
		}
	case "type":
		if t := slot("text"); t != "" {
			return []Goal{{Kind: "type", App: app, AppName: appName, Target: slot("element"), Text: t}}
		}
	case "toggle":
		key := m.settingKey(slot("setting"))
		if key == "" || (p.Attr != "on" && p.Attr != "off") {
			return nil
		}
		a, n := inApp(pkgSettings)
		return []Goal{{Kind: "toggle", App: a, AppName: n, Target: key, On: p.Attr == "on"}}
	case "brightness":
		l, ok := level(p.Attr, rs)
		if !ok {
			return nil
		}
		a, n := inApp(pkgSettings)
		return []Goal{{Kind: "brightness", App: a, AppName: n, Level: l}}
	case "search":
		if q := slot("query"); q != "" {
			return []Goal{{Kind: "search", App: app, AppName: appName, Text: q}}
		}
	case "send":
		c, t := slot("contact"), slot("text")
		if c == "" || t == "" {
			return nil
		}
		a, n := inApp(pkgWeChat)
		return []Goal{{Kind: "send", App: a, AppName: n, Contact: c, Text: t}}
	case "add_cart":
		a, n := pkgTaobao, "淘宝"
		if app == pkgMeituan || app == pkgTaobao {
			a, n = app, appName
		}
		q := slot("query")
		if q == "" {
			return []Goal{{Kind: "add_cart", App: a, AppName: n}}
		}
		return []Goal{{Kind: "search", App: a, AppName: n, Text: q}, {Kind: "add_cart", App: a, AppName: n, Text: q}}
	case "navigate":
		a, n := inApp(pkgAmap)
		q := slot("query")
		if q == "" {
			return []Goal{{Kind: "navigate", App: a, AppName: n}}
		}
		return []Goal{{Kind: "search", App: a, AppName: n, Text: q}, {Kind: "navigate", App: a, AppName: n, Target: q}}
	case "back", "home", "enter":
		return []Goal{{Kind: p.Intent}}
	}
	return nil
}

// JSON renders the prediction as the module's reply:
//
//	{"intent":"send","confidence":0.98,"attr":"none",
//	 "slots":{"contact":"张三","text":"明天开会"},
//	 "spans":[{"type":"contact","value":"张三","start":1,"end":3},…],
//	 "goals":[{"kind":"send","app":"com.tencent.mm","app_name":"微信","contact":"张三","text":"明天开会"}]}
//
// slots holds the first span of each type; spans all of them, in rune
// offsets of the cleaned instruction. A goal has only its non-empty
// fields, plus "on" for toggle and "level" for brightness.
func (p Prediction) JSON() string {
	var b strings.Builder
	b.WriteString(`{"intent":`)
	b.WriteString(quote(p.Intent))
	b.WriteString(`,"confidence":`)
	b.WriteString(strconv.FormatFloat(float64(p.Confidence), 'f', 4, 32))
	b.WriteString(`,"attr":`)
	b.WriteString(quote(p.Attr))
	b.WriteString(`,"slots":{`)
	seen := map[string]bool{}
	for _, s := range p.Slots {
		if seen[s.Type] {
			continue
		}
		if len(seen) > 0 {
			b.WriteByte(',')
		}
		seen[s.Type] = true
		b.WriteString(quote(s.Type) + ":" + quote(s.Value))
	}
	b.WriteString(`},"spans":[`)
	for i, s := range p.Slots {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":` + quote(s.Type) + `,"value":` + quote(s.Value) +
			`,"start":` + strconv.Itoa(s.Start) + `,"end":` + strconv.Itoa(s.End) + `}`)
	}
	b.WriteString(`],"goals":[`)
	for i, g := range p.Goals {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"kind":` + quote(g.Kind))
		for _, f := range [][2]string{{"app", g.App}, {"app_name", g.AppName}, {"target", g.Target},
			{"contact", g.Contact}, {"text", g.Text}} {
			if f[1] != "" {
				b.WriteString(`,"` + f[0] + `":` + quote(f[1]))
			}
		}
		switch g.Kind {
		case "toggle":
			b.WriteString(`,"on":` + strconv.FormatBool(g.On))
		case "brightness":
			b.WriteString(`,"level":` + strconv.Itoa(g.Level))
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	return b.String()
}

// quote writes s as a JSON string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			const hex = "0123456789abcdef"
			b.WriteString(`\u`)
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
