package config

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrReloadRejected wraps every error a Watcher reports for an edit it did
// not apply.
var ErrReloadRejected = errors.New("config reload rejected")

// Error is one problem with one configuration value. Load and Watch report
// every problem they find, each as an *Error joined with errors.Join, in the
// order file (by line), environment, flags; use errors.As to inspect one.
type Error struct {
	// Key is the dotted key, e.g. "plugins.wasm.memory_limit_mib"; empty for
	// a problem with the whole file (malformed YAML).
	Key string
	// Source says where the offending value came from: "FILE:LINE",
	// "env CLOUDPHONE_…", "flag --…" or "defaults"; empty for a Config that
	// was checked with Validate.
	Source string
	// Line is the line in the file, 0 when the value did not come from it.
	Line int
	// Msg says what is wrong.
	Msg string

	src source
}

// Error formats the problem as "config SOURCE: KEY: MSG".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Source != "" {
		b.WriteString(" ")
		b.WriteString(e.Source)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// sourceKind orders the sources for error reports.
type sourceKind int

const (
	fromFile sourceKind = iota
	fromEnv
	fromFlag
	fromDefault
	fromCode // a Config built in code, checked with Validate
)

// source is where one value came from.
type source struct {
	kind sourceKind
	name string // file path, environment variable or flag name
	line int
}

func (s source) String() string {
	switch s.kind {
	case fromFile:
		if s.line > 0 {
			return s.name + ":" + strconv.Itoa(s.line)
		}
		return s.name
	case fromEnv:
		return "env " + s.name
	case fromFlag:
		return "flag --" + s.name
	case fromDefault:
		return "defaults"
	}
	return ""
}

// newError builds the *Error for a problem with key whose value came from
// src.
func newError(src source, key, msg string) *Error {
	return &Error{Key: key, Source: src.String(), Line: src.line, Msg: msg, src: src}
}

// problem is a check that failed, before its source is known.
type problem struct {
	key string
	msg string
}

// joinErrors sorts errs into report order (file lines first, then
// environment, flags, defaults) and joins them; nil when errs is empty.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if c := cmp.Compare(a.src.kind, b.src.kind); c != 0 {
			return c
		}
		if c := cmp.Compare(a.src.line, b.src.line); c != 0 {
			return c
		}
		return cmp.Compare(a.src.name, b.src.name)
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// yamlLine matches the "line N: message" part of a YAML parser error.
var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns a YAML parser error into one *Error per reported problem,
// each carrying the line the parser named.
func yamlError(file string, err error) error {
	text := strings.TrimPrefix(err.Error(), "yaml: ")
	text = strings.TrimPrefix(text, "unmarshal errors:\n")
	var errs []*Error
	for l := range strings.SplitSeq(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		src := source{kind: fromFile, name: file}
		msg := l
		if m := yamlLine.FindStringSubmatch(l); m != nil {
			src.line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		errs = append(errs, newError(src, "", "malformed YAML: "+msg))
	}
	if len(errs) == 0 {
		errs = append(errs, newError(source{kind: fromFile, name: file}, "", "malformed YAML: "+err.Error()))
	}
	return joinErrors(errs)
}

// describe renders a decoded value for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(v)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any, []string:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

// suggest returns the candidate nearest to s, or "" when none is near.
func suggest(s string, candidates []string) string {
	best, bestD := "", len(s)/3+2
	for _, c := range candidates {
		if d := levenshtein(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
