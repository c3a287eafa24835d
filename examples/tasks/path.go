package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// step is one hop of a path: a key, an index, or a selector.
type step struct {
	key      string
	index    int
	isIndex  bool
	selKey   string // [selKey=selValue]
	selValue string
}

// parsePath splits a path such as `wechat.chats[name=张三].messages[-1].text`
// or `tasks["com.tencent.mm"][0]` into steps.
func parsePath(p string) ([]step, error) {
	if p == "" {
		return nil, errors.New("empty path")
	}
	var steps []step
	for i := 0; i < len(p); {
		switch c := p[i]; {
		case c == '.':
			if i == 0 || i == len(p)-1 {
				return nil, fmt.Errorf("path %q: stray dot", p)
			}
			i++
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: unclosed [", p)
			}
			in := p[i+1 : i+end]
			i += end + 1
			switch {
			case strings.HasPrefix(in, `"`):
				k, err := strconv.Unquote(in)
				if err != nil {
					return nil, fmt.Errorf("path %q: bad quoted key %s", p, in)
				}
				steps = append(steps, step{key: k})
			case strings.Contains(in, "="):
				k, v, _ := strings.Cut(in, "=")
				if k == "" {
					return nil, fmt.Errorf("path %q: selector [%s] has no key", p, in)
				}
				steps = append(steps, step{selKey: k, selValue: v})
			default:
				n, err := strconv.Atoi(in)
				if err != nil {
					return nil, fmt.Errorf("path %q: [%s] is not an index, selector or quoted key", p, in)
				}
				steps = append(steps, step{index: n, isIndex: true})
			}
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			steps = append(steps, step{key: p[i:j]})
			i = j
		}
	}
	return steps, nil
}

// lookup follows path through v.
func lookup(v any, path string) (any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	for _, s := range steps {
		switch {
		case s.isIndex:
			a, ok := v.([]any)
			if !ok {
				return nil, errMissing
			}
			i := s.index
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, errMissing
			}
			v = a[i]
		case s.selKey != "":
			a, ok := v.([]any)
			if !ok {
				return nil, errMissing
			}
			found := false
			for _, e := range a {
				if m, ok := e.(map[string]any); ok && scalarText(m[s.selKey]) == s.selValue {
					v, found = e, true
					break
				}
			}
			if !found {
				return nil, errMissing
			}
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, errMissing
			}
			if v, ok = m[s.key]; !ok {
				return nil, errMissing
			}
		}
	}
	return v, nil
}

// scalarText renders a JSON scalar as text, for selectors and messages.
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// equal compares a state value with a check value.
func equal(got, want any) bool {
	if g, ok := number(got); ok {
		w, ok := number(want)
		return ok && g == w
	}
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case nil:
		return got == nil
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	return string(a) == string(b)
}

func length(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		return len(x), true
	case string:
		return len([]rune(x)), true
	case nil:
		return 0, true
	}
	return 0, false
}

func contains(got, want any) bool {
	switch g := got.(type) {
	case string:
		w, ok := want.(string)
		return ok && strings.Contains(g, w)
	case []any:
		for _, e := range g {
			if equal(e, want) {
				return true
			}
		}
	}
	return false
}

// eval applies the check to the decoded state; the error is what was found.
func (c Check) eval(state any) error {
	got, err := lookup(state, c.Path)
	switch {
	case c.Op == "absent" && errors.Is(err, errMissing):
		return nil
	case c.Op == "absent":
		return errors.New(describe(got))
	case errors.Is(err, errMissing) && (c.Op == "len_eq" || c.Op == "len_gte"):
		got, err = nil, nil // a missing list is an empty one
	case err != nil:
		return err
	}
	ok := false
	switch c.Op {
	case "exists":
		ok = true
	case "eq":
		ok = equal(got, c.Value)
	case "ne":
		ok = !equal(got, c.Value)
	case "contains":
		ok = contains(got, c.Value)
	case "not_contains":
		ok = !contains(got, c.Value)
	case "gt", "gte", "lt", "lte":
		g, ok1 := number(got)
		w, ok2 := number(c.Value)
		if ok1 && ok2 {
			ok = c.Op == "gt" && g > w || c.Op == "gte" && g >= w || c.Op == "lt" && g < w || c.Op == "lte" && g <= w
		}
	case "len_eq", "len_gte":
		n, ok1 := length(got)
		w, ok2 := number(c.Value)
		if ok1 && ok2 {
			ok = c.Op == "len_eq" && float64(n) == w || c.Op == "len_gte" && float64(n) >= w
		}
		if !ok {
			return errors.New(describe(got) + " (length " + strconv.Itoa(n) + ")")
		}
	}
	if !ok {
		return errors.New(describe(got))
	}
	return nil
}

func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
