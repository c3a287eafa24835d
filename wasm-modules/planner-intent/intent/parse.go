package intent

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on instructions.
const (
	MaxInstructionRunes = 500
	MaxGoals            = 16
)

// Errors Parse returns.
var (
	ErrEmpty   = errors.New("empty instruction")
	ErrTooLong = errors.New("instruction is too long (more than " + strconv.Itoa(MaxInstructionRunes) + " characters)")
	ErrTooMany = errors.New("instruction has too many parts (more than " + strconv.Itoa(MaxGoals) + ")")
)

// UnknownError is returned for a part of an instruction Parse does not
// understand.
type UnknownError struct{ Part string }

func (e *UnknownError) Error() string {
	p := e.Part
	if r := []rune(p); len(r) > 60 {
		p = string(r[:60]) + "…"
	}
	return "cannot understand " + strconv.Quote(p)
}

// IsChinese reports whether instruction s reads as Chinese: its first
// letter is a Han character ("打开浏览器输入hello" is Chinese, "send 李四 a
// message" English). The planner thinks in the instruction's language.
func IsChinese(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return unicode.Is(unicode.Han, r)
		}
	}
	return false
}

// Parse turns an instruction into its sub-goals, in order. Parts are joined
// by 然后, 接着, 并, ，, "and then", "then", "and", commas...; a piece that
// means nothing alone (the rest of a message that contains a comma) stays
// with the part before it.
func Parse(instruction string) ([]Goal, error) {
	s := clean(instruction)
	if s == "" {
		return nil, ErrEmpty
	}
	if utf8.RuneCountInString(s) > MaxInstructionRunes {
		return nil, ErrTooLong
	}
	frags, seps := split(s)
	frags, seps = dropEmpty(frags, seps)
	var clauses []string
	cur := ""
	for i, f := range frags {
		switch {
		case cur == "":
			cur = f
		case parses(cur) && parses(f):
			clauses = append(clauses, cur)
			cur = f
		default:
			cur += seps[i-1] + f
		}
	}
	if cur != "" {
		clauses = append(clauses, cur)
	}
	var goals []Goal
	ctx := &parseCtx{}
	for _, c := range clauses {
		gs, ok := ctx.clause(c)
		if !ok {
			return nil, &UnknownError{Part: trimClause(c)}
		}
		goals = append(goals, gs...)
		if len(goals) > MaxGoals {
			return nil, ErrTooMany
		}
	}
	if len(goals) == 0 {
		return nil, ErrEmpty
	}
	return goals, nil
}

// dropEmpty removes fragments that are only punctuation or fillers,
// joining the separators around them.
func dropEmpty(frags, seps []string) (fs, ss []string) {
	pending := ""
	for i, f := range frags {
		if i > 0 && i-1 < len(seps) {
			pending += seps[i-1]
		}
		if trimClause(f) == "" {
			pending += f
			continue
		}
		if len(fs) > 0 {
			ss = append(ss, pending)
		}
		pending = ""
		fs = append(fs, f)
	}
	return fs, ss
}

// clean drops invalid UTF-8 and control characters and collapses spaces.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			b.WriteString("，")
			space = false
		case unicode.IsSpace(r):
			space = true
		case unicode.IsControl(r) || r == '\ufeff' || r == '\u200b':
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// separators between the parts of an instruction, longest first where one
// is a prefix of another. Matching ignores ASCII case.
var separators = []string{
	"，然后再", "，然后", "，接着", "，再", "，并且", "，并", ", and then ", ", then ", ", and ",
	"然后再", "然后", "接着", "之后", "随后", "最后", "并且", "并", "再",
	"，", "。", "；", "！", ";", "!",
	" and then ", " then ", " and ", ", ", ". ",
}

// quotes opening and closing quoted text, which is never split.
var quotes = map[rune]rune{'“': '”', '「': '」', '『': '』', '"': '"', '‘': '’', '【': '】', '《': '》'}

// split cuts s at separators outside quotes. seps[i] is the separator
// between frags[i] and frags[i+1]. Empty pieces are dropped.
func split(s string) (frags, seps []string) {
	var close rune
	start := 0
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if close != 0 {
			if r == close {
				close = 0
			}
			i += n
			continue
		}
		if c, ok := quotes[r]; ok {
			close = c
			i += n
			continue
		}
		sep := ""
		for _, p := range separators {
			if strings.HasPrefix(lower[i:], p) {
				sep = s[i : i+len(p)]
				break
			}
		}
		if sep == "" || i == start {
			i += n
			continue
		}
		if f := strings.TrimSpace(s[start:i]); f != "" {
			frags = append(frags, f)
			seps = append(seps, sep)
		} else if len(seps) > 0 {
			seps[len(seps)-1] += sep
		}
		i += len(sep)
		start = i
	}
	if f := strings.TrimSpace(s[start:]); f != "" {
		frags = append(frags, f)
	} else if len(seps) > 0 {
		seps = seps[:len(seps)-1]
	}
	return frags, seps
}

// parses reports whether a clause means something on its own.
func parses(c string) bool {
	_, ok := (&parseCtx{}).clause(c)
	return ok
}

// fillers are words around a clause that carry no intent.
var (
	leadFillers = []string{"然后再", "然后", "接着", "之后", "随后", "最后", "并且", "并", "再", "先", "请你", "请", "帮我", "麻烦你", "麻烦", "给我",
		"please ", "then ", "and ", "also ", "first ", "finally ", "next ", "can you ", "could you ", "now "}
	trailFillers = []string{"吧", "好吗", "谢谢", "，谢谢", " please", " for me", " now", ", thanks", " thanks", ", thank you", " thank you"}
)

// trimClause strips punctuation and leading filler words around a clause.
// Trailing fillers ("吧", "please") are kept: they may end a message.
func trimClause(c string) string {
	for {
		prev := c
		c = strings.TrimFunc(c, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune("，,。.！!；;：:？?、~～", r)
		})
		lc := strings.ToLower(c)
		for _, f := range leadFillers {
			if strings.HasPrefix(lc, f) && len(c) > len(f) {
				c = c[len(f):]
				break
			}
		}
		if c == prev {
			return c
		}
	}
}

// unquote strips one pair of quotes around s, and spaces.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	r, n := utf8.DecodeRuneInString(s)
	if c, ok := quotes[r]; ok && n < len(s) {
		if l, m := utf8.DecodeLastRuneInString(s); l == c && len(s)-m >= n {
			return strings.TrimSpace(s[n : len(s)-m])
		}
	}
	if strings.HasPrefix(s, "'") && strings.HasSuffix(s, "'") && len(s) >= 2 {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// trimTrail strips trailing filler words ("吧", "please", "谢谢").
func trimTrail(c string) string {
	for {
		prev := c
		lc := strings.ToLower(c)
		for _, f := range trailFillers {
			if strings.HasSuffix(lc, f) && len(c) > len(f) {
				c = trimClause(c[:len(c)-len(f)])
				break
			}
		}
		if c == prev {
			return c
		}
	}
}

// parseCtx carries what one clause tells the next: the app in use.
type parseCtx struct {
	app, appName string
	depth        int // nesting of rulePrefix
}

func (p *parseCtx) setApp(name string) *App {
	a := LookupApp(name)
	if a != nil {
		p.app, p.appName = a.Package, a.Name
	}
	return a
}

// clause parses one part of an instruction into goals.
func (p *parseCtx) clause(raw string) ([]Goal, bool) {
	c := trimClause(raw)
	if c == "" {
		return nil, false
	}
	// The clause as written first, so a message keeps its last words;
	// then without trailing fillers; the catch-all "open anything" last.
	for _, r := range rules {
		if gs, ok := r(p, c); ok {
			return gs, true
		}
	}
	if t := trimTrail(c); t != c {
		for _, r := range rules {
			if gs, ok := r(p, t); ok {
				return gs, true
			}
		}
		c = t
	}
	return ruleOpenUnknown(p, c)
}
