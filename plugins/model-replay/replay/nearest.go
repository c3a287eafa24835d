package replay

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nearest returns the index of the recorded entry most like s and a
// sentence saying where they differ; -1 when there are no entries.
// Likeness: more leading messages equal, then a longer common prefix in
// the first differing message, then the same model; ties go to the later
// line.
func nearest(entries []Entry, s Summary) (int, string) {
	best, bestScore := -1, [3]int{-1, -1, -1}
	for i := range entries {
		sc := likeness(entries[i].Request, s)
		if sc[0] > bestScore[0] || sc[0] == bestScore[0] && (sc[1] > bestScore[1] || sc[1] == bestScore[1] && sc[2] >= bestScore[2]) {
			best, bestScore = i, sc
		}
	}
	if best < 0 {
		return -1, ""
	}
	return best, difference(entries[best].Request, s)
}

func likeness(rec, got Summary) [3]int {
	same := 0
	for same < len(rec.Messages) && same < len(got.Messages) && equalMessage(rec.Messages[same], got.Messages[same]) {
		same++
	}
	prefix := 0
	if same < len(rec.Messages) && same < len(got.Messages) {
		prefix = commonPrefix(flatText(rec.Messages[same]), flatText(got.Messages[same]))
	}
	model := 0
	if rec.Model == got.Model {
		model = 1
	}
	return [3]int{same, prefix, model}
}

func equalMessage(a, b Message) bool {
	if a.Role != b.Role || len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		if !equalPart(a.Parts[i], b.Parts[i]) {
			return false
		}
	}
	return true
}

func equalPart(a, b Part) bool {
	if (a.Text == nil) != (b.Text == nil) || a.Image != b.Image {
		return false
	}
	return a.Text == nil || *a.Text == *b.Text
}

// flatText is a message's parts as one string, images as their digests.
func flatText(m Message) string {
	var b strings.Builder
	for i, p := range m.Parts {
		if i > 0 {
			b.WriteString("\n")
		}
		switch {
		case p.Text != nil:
			b.WriteString(*p.Text)
		case p.Image != "":
			b.WriteString("[image " + p.Image + "]")
		default:
			b.WriteString("[empty part]")
		}
	}
	return b.String()
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) { // back to a rune start
		n--
	}
	return n
}

// difference says where got departs from the recorded request rec.
func difference(rec, got Summary) string {
	n := min(len(rec.Messages), len(got.Messages))
	for i := range n {
		a, b := rec.Messages[i], got.Messages[i]
		if equalMessage(a, b) {
			continue
		}
		if a.Role != b.Role {
			return fmt.Sprintf("message %d is %q there, %q here", i+1, a.Role, b.Role)
		}
		ta, tb := flatText(a), flatText(b)
		at := commonPrefix(ta, tb)
		return fmt.Sprintf("message %d (%s) differs at byte %d: recorded %s, got %s", i+1, a.Role, at, excerpt(ta, at), excerpt(tb, at))
	}
	if len(rec.Messages) != len(got.Messages) {
		return fmt.Sprintf("it has %d messages, this request %d (the first %d are equal)", len(rec.Messages), len(got.Messages), n)
	}
	if rec.Model != got.Model {
		return fmt.Sprintf("same messages; model %q there, %q here", rec.Model, got.Model)
	}
	return fmt.Sprintf("same messages; sampling parameters %s there, %s here", paramsString(rec.Params), paramsString(got.Params))
}

// excerpt quotes up to 40 bytes of s around byte at.
func excerpt(s string, at int) string {
	from, to := max(at-20, 0), min(at+40, len(s))
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	q := strconv.Quote(s[from:to])
	if from > 0 {
		q = "…" + q
	}
	if to < len(s) {
		q += "…"
	}
	if at >= len(s) {
		q += " (ends there)"
	}
	return q
}

func paramsString(p *Params) string {
	if p == nil {
		return "(none)"
	}
	b, _ := json.Marshal(p)
	return string(b)
}
