package autoglm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Call is one parsed action call: do(action="Tap", element=[1,2]) or
// finish(message="…").
type Call struct {
	// Name is "do" or "finish".
	Name string
	Args map[string]Value
}

// Value is a Python literal argument: a string, a number or a list of
// numbers.
type Value struct {
	Str    string
	Num    float64
	List   []float64
	IsStr  bool
	IsNum  bool
	IsList bool
}

// Reply is a model reply split into its parts.
type Reply struct {
	Thinking string
	Answer   string
	Call     Call
}

// maxReply bounds what is parsed; longer replies are cut (a model stuck
// repeating itself).
const maxReply = 64 << 10

// boxes are the box markers some model versions wrap the answer in.
var boxes = strings.NewReplacer("<|begin_of_box|>", "", "<|end_of_box|>", "")

// Full-width punctuation models emit instead of ASCII. The lexer accepts
// them as delimiters only outside strings, so typed text keeps its own
// punctuation.
var fullWidth = map[string]byte{"，": ',', "（": '(', "）": ')', "＝": '=', "【": '[', "】": ']'}

// ParseReply splits a reply into thinking and answer and parses the action
// call in it.
func ParseReply(text string) (Reply, error) {
	if len(text) > maxReply {
		text = text[:maxReply]
	}
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "")
	}
	var r Reply
	answer := text
	if i := strings.Index(text, "<think>"); i >= 0 {
		rest := text[i+len("<think>"):]
		if j := strings.Index(rest, "</think>"); j >= 0 {
			r.Thinking, answer = strings.TrimSpace(rest[:j]), rest[j+len("</think>"):]
		}
	} else if j := strings.Index(text, "</think>"); j >= 0 {
		r.Thinking, answer = strings.TrimSpace(text[:j]), text[j+len("</think>"):]
	}
	if i := strings.Index(answer, "<answer>"); i >= 0 {
		answer = answer[i+len("<answer>"):]
	}
	if j := strings.Index(answer, "</answer>"); j >= 0 {
		answer = answer[:j]
	}
	r.Answer = strings.TrimSpace(answer)
	call, err := parseCall(boxes.Replace(r.Answer))
	if err != nil && r.Thinking == "" {
		// No tags at all: the call may sit anywhere in the text.
		call, err = parseCall(boxes.Replace(text))
	}
	if err != nil {
		return r, err
	}
	r.Call = call
	return r, nil
}

// parseCall finds finish(…) first, then do(…), as the reference parser does.
func parseCall(s string) (Call, error) {
	for _, name := range []string{"finish", "do"} {
		for off := 0; ; {
			i, open := indexCall(s[off:], name)
			if i < 0 {
				break
			}
			i += off
			off = i + 1
			if i > 0 && isIdent(s[i-1]) {
				continue // e.g. "undo(" or "todo("
			}
			args, err := parseArgs(s[i+len(name)+open:])
			if err != nil {
				if name == "finish" {
					continue
				}
				return Call{}, fmt.Errorf("%s(...): %w", name, err)
			}
			return Call{Name: name, Args: args}, nil
		}
	}
	return Call{}, errors.New("no do(...) or finish(...) call in the reply")
}

// indexCall finds name( or name（ and returns its index and the width of
// the parenthesis.
func indexCall(s, name string) (int, int) {
	a, b := strings.Index(s, name+"("), strings.Index(s, name+"（")
	switch {
	case a >= 0 && (b < 0 || a < b):
		return a, 1
	case b >= 0:
		return b, len("（")
	}
	return -1, 0
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseArgs parses `key=value, …)` up to the closing parenthesis.
func parseArgs(s string) (map[string]Value, error) {
	p := &lexer{s: s}
	args := map[string]Value{}
	for {
		p.space()
		if p.eat(')') {
			return args, nil
		}
		key := p.ident()
		if key == "" {
			return nil, fmt.Errorf("expected an argument name at %q", p.rest(12))
		}
		p.space()
		if !p.eat('=') {
			return nil, fmt.Errorf("expected = after %s", key)
		}
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", key, err)
		}
		args[key] = v
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			return args, nil
		}
		if p.done() {
			return args, nil // a reply cut before its ")" still says what it means
		}
		return nil, fmt.Errorf("expected , or ) at %q", p.rest(12))
	}
}

type lexer struct {
	s string
	i int
}

func (p *lexer) done() bool { return p.i >= len(p.s) }

func (p *lexer) rest(n int) string {
	r := p.s[p.i:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (p *lexer) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// eat consumes c, or its full-width form.
func (p *lexer) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	for fw, ascii := range fullWidth {
		if ascii == c && strings.HasPrefix(p.s[p.i:], fw) {
			p.i += len(fw)
			return true
		}
	}
	return false
}

// peek reports whether the next token is c or its full-width form.
func (p *lexer) peek(c byte) bool {
	save := p.i
	ok := p.eat(c)
	p.i = save
	return ok
}

func (p *lexer) ident() string {
	start := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *lexer) value() (Value, error) {
	if p.done() {
		return Value{}, errors.New("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		p.i++
		s, err := p.str(string(c))
		return Value{Str: s, IsStr: true}, err
	case strings.HasPrefix(p.s[p.i:], "“"):
		p.i += len("“")
		s, err := p.str("”")
		return Value{Str: s, IsStr: true}, err
	case strings.HasPrefix(p.s[p.i:], "‘"):
		p.i += len("‘")
		s, err := p.str("’")
		return Value{Str: s, IsStr: true}, err
	case p.peek('[') || p.peek('('):
		l, err := p.list()
		return Value{List: l, IsList: true}, err
	default:
		n, err := p.number()
		return Value{Num: n, IsNum: true}, err
	}
}

// str reads the rest of a string literal up to the closing quote q, with
// the usual escapes.
func (p *lexer) str(q string) (string, error) {
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case strings.HasPrefix(p.s[p.i:], q):
			p.i += len(q)
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			p.i++
			switch e := p.s[p.i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(e)
			}
			p.i++
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errors.New("unterminated string")
}

func (p *lexer) list() ([]float64, error) {
	closer := byte(']')
	if !p.eat('[') {
		p.eat('(')
		closer = ')'
	}
	var out []float64
	for {
		p.space()
		if p.eat(closer) {
			return out, nil
		}
		if len(out) > 8 {
			return nil, errors.New("list too long")
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		p.space()
		if !p.eat(',') && !p.peek(closer) {
			return nil, fmt.Errorf("expected , or %c in list", closer)
		}
	}
}

func (p *lexer) number() (float64, error) {
	start := p.i
	for p.i < len(p.s) && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
		p.i++
	}
	n, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", p.s[start:p.i])
	}
	return n, nil
}
