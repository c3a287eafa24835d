// Package modeltest helps tests script a model server: WriteStream answers
// a request the way an OpenAI-compatible server (vLLM, SGLang) does, as
// server-sent chat completion chunks, and Toggle finds the on-screen switch
// a scripted reply should tap. Tests start the server themselves with
// net/http/httptest (127.0.0.1 only).
//
// What it is not: a model. Replies are whatever the test scripts.
package modeltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Usage is the token count reported in the stream's last chunk.
type Usage struct {
	PromptTokens, CompletionTokens int
}

// WriteStream writes reply as chat completion chunks of a few runes each,
// then a chunk with finish_reason "stop" and usage, a keep-alive comment
// (which clients must skip) and [DONE].
func WriteStream(w http.ResponseWriter, reply string, usage Usage) {
	w.Header().Set("Content-Type", "text/event-stream")
	f, _ := w.(http.Flusher)
	r := []rune(reply)
	for i := 0; i < len(r); i += 4 {
		b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{
			"delta": map[string]string{"content": string(r[i:min(i+4, len(r))])}}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		if f != nil {
			f.Flush()
		}
	}
	fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d}}\n\n",
		usage.PromptTokens, usage.CompletionTokens)
	fmt.Fprint(w, ": keep-alive comment\n\ndata: [DONE]\n\n")
}

// Rect is an element's bounds in pixels.
type Rect struct{ Left, Top, Right, Bottom int }

// Center is the middle of r.
func (r Rect) Center() (x, y int) { return (r.Left + r.Right) / 2, (r.Top + r.Bottom) / 2 }

// Contains reports whether (x, y) lies in r.
func (r Rect) Contains(x, y int) bool {
	return x >= r.Left && x <= r.Right && y >= r.Top && y <= r.Bottom
}

var (
	nodeRE   = regexp.MustCompile(`<node [^>]*>`)
	attrRE   = regexp.MustCompile(`([\w-]+)="([^"]*)"`)
	boundsRE = regexp.MustCompile(`\[(\d+),(\d+)\]\[(\d+),(\d+)\]`)
)

// Toggle returns the bounds of the switch on the row labelled label in a
// uiautomator dump: the first Switch whose vertical centre lies within the
// bounds of the first element with that text.
func Toggle(uiXML, label string) (Rect, bool) {
	var nodes []map[string]string
	var row Rect
	found := false
	for _, n := range nodeRE.FindAllString(uiXML, -1) {
		m := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(n, -1) {
			m[a[1]] = a[2]
		}
		nodes = append(nodes, m)
		if b, ok := parseBounds(m["bounds"]); ok && !found && m["text"] == label {
			row, found = b, true
		}
	}
	if !found {
		return Rect{}, false
	}
	for _, m := range nodes {
		b, ok := parseBounds(m["bounds"])
		if !ok || !strings.Contains(m["class"], "Switch") {
			continue
		}
		if _, cy := b.Center(); cy >= row.Top && cy <= row.Bottom {
			return b, true
		}
	}
	return Rect{}, false
}

func parseBounds(s string) (Rect, bool) {
	m := boundsRE.FindStringSubmatch(s)
	if m == nil {
		return Rect{}, false
	}
	v := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	return Rect{v(1), v(2), v(3), v(4)}, true
}
