package replay

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMalformedCassette(t *testing.T) {
	good := `{"request":{"messages":[{"role":"user","parts":[{"text":"打开设置"}]}]},"reply":"ok"}`
	tests := []struct {
		name string
		data string
		want string
	}{
		{"bad JSON", good + "\n\n{\"request\": oops}\n", "line 3: malformed entry"},
		{"truncated last line", good + "\n" + good[:40], "line 2: malformed entry"},
		{"unknown field", good + "\n" + `{"request":{"messages":[{"role":"user","parts":[]}]},"reply":"x","replay":"y"}` + "\n", `line 2: malformed entry: json: unknown field "replay"`},
		{"two values", good + good + "\n", "line 1: malformed entry: more than one JSON value"},
		{"no messages", `{"request":{"messages":[]},"reply":"x"}` + "\n", "line 1: entry has no request messages"},
		{"bad key", `{"key":"xyz","request":{"messages":[{"role":"user","parts":[]}]},"reply":"x"}` + "\n", `line 1: key must be 64 hex digits, got "xyz"`},
		{"key of another request", `{"key":"` + strings.Repeat("0", 64) + `","request":{"messages":[{"role":"user","parts":[]}]},"reply":"x"}` + "\n", "line 1: key 000000000000 does not match its request"},
		{"bad image", `{"request":{"messages":[{"role":"user","parts":[{"image":"md5:abc"}]}]},"reply":"x"}` + "\n", `line 1: entry request: message 1 part 1: image must be "sha256:<64 hex>"`},
		{"text and image", `{"request":{"messages":[{"role":"user","parts":[{"text":"a","image":"sha256:00"}]}]},"reply":"x"}` + "\n", "line 1: entry request: message 1 part 1 has both text and image"},
		{"reply not a string", `{"request":{"messages":[{"role":"user","parts":[]}]},"reply":3}` + "\n", "line 1: malformed entry"},
		{"not JSON at all", "\x00\x01binary", "line 1: malformed entry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.jsonl")
			os.WriteFile(file, []byte(tc.data), 0o644)
			for _, mode := range []string{ModeReplay, ModeRecord} {
				var err error
				if mode == ModeReplay {
					_, err = NewPlayer(replayConfig(t, file, MatchExact))
				} else {
					_, err = NewRecorder(recordConfig(t, "http://127.0.0.1:1/v1", file), nil)
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file) {
					t.Fatalf("%s: err %v, want %q with the file name", mode, err, tc.want)
				}
			}
		})
	}
}

func TestCassetteWithoutKeysAndNewline(t *testing.T) {
	// Hand-written: no keys, no newline at the end, blank lines.
	file := filepath.Join(t.TempDir(), "c.jsonl")
	os.WriteFile(file, []byte("\n"+`{"request":{"model":"model-replay","messages":[{"role":"system","parts":[{"text":"你是一个手机助手"}]},{"role":"user","parts":[{"text":"返回"}]}]},"reply":"<answer>do(action=\"Back\")</answer>"}`), 0o644)
	p, err := NewPlayer(replayConfig(t, file, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := run(t, p, userReq("返回", nil)); err != nil || got.text != `<answer>do(action="Back")</answer>` {
		t.Fatalf("%q %v", got.text, err)
	}
	// A recorder appends on a line of its own.
	url, _ := upstream(t, func(string) string { return "r" })
	rec, err := NewRecorder(recordConfig(t, url, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, rec, userReq("x", nil)); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	entries, err := Read(file)
	if err != nil || len(entries) != 2 || entries[1].line != 3 {
		t.Fatalf("entries %d: %v", len(entries), err)
	}
}

func TestMissingCassette(t *testing.T) {
	_, err := NewPlayer(replayConfig(t, filepath.Join(t.TempDir(), "none.jsonl"), MatchExact))
	if err == nil || !strings.Contains(err.Error(), "none.jsonl") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err %v", err)
	}
}

// TestConcurrentRecord records from many goroutines at once: every exchange
// is one whole line, and every line replays its own reply.
func TestConcurrentRecord(t *testing.T) {
	url, _ := upstream(t, func(last string) string { return "reply to " + last + strings.Repeat(" 好", 50) })
	file := filepath.Join(t.TempDir(), "c.jsonl")
	rec, err := NewRecorder(recordConfig(t, url, file), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 16, 5
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if _, err := run(t, rec, userReq(fmt.Sprintf("g%d-%d", g, i), nil)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rec.Close()
	p, err := NewPlayer(replayConfig(t, file, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != goroutines*each {
		t.Fatalf("%d lines, want %d", p.Len(), goroutines*each)
	}
	for g := range goroutines {
		for i := range each {
			got, err := run(t, p, userReq(fmt.Sprintf("g%d-%d", g, i), nil))
			if err != nil || !strings.HasPrefix(got.text, fmt.Sprintf("reply to g%d-%d ", g, i)) {
				t.Fatalf("%q %v", got.text, err)
			}
		}
	}
	if _, err := run(t, rec, userReq("after close", nil)); err == nil {
		t.Fatal("a closed recorder recorded")
	}
}

func TestRecordFailuresAreNotRecorded(t *testing.T) {
	url, _ := upstream(t, func(last string) string {
		if strings.Contains(last, "fail") {
			return ""
		}
		return "ok"
	})
	file := filepath.Join(t.TempDir(), "c.jsonl")
	rec, err := NewRecorder(recordConfig(t, url, file), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if _, err := run(t, rec, userReq("fail", nil)); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rec.Infer(ctx, userReq("ok", nil), func(*cpv1.InferChunk) error { return nil }); err == nil {
		t.Fatal("canceled call succeeded")
	}
	if entries, err := Read(file); err != nil || len(entries) != 0 {
		t.Fatalf("%d entries recorded, want 0 (%v)", len(entries), err)
	}
}

func TestSequenceAndRepeats(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.jsonl")
	a, b := userReq("a", nil), userReq("b", nil)
	writeCassette(t, file, []*cpv1.InferRequest{a, b, a}, []string{"a1", "b1", "a2"})

	exact, err := NewPlayer(replayConfig(t, file, MatchExact))
	if err != nil {
		t.Fatal(err)
	}
	// The nth request with a key gets the nth reply under it, then the last.
	for i, want := range []string{"a1", "a2", "a2"} {
		if got, err := run(t, exact, a); err != nil || got.text != want {
			t.Fatalf("exact call %d: %q %v, want %q", i, got.text, err, want)
		}
	}
	seq, err := NewPlayer(replayConfig(t, file, MatchSequence))
	if err != nil {
		t.Fatal(err)
	}
	// Any request gets the next line.
	other := userReq("zzz", nil)
	for i, want := range []string{"a1", "b1", "a2"} {
		if got, err := run(t, seq, other); err != nil || got.text != want {
			t.Fatalf("sequence call %d: %q %v, want %q", i, got.text, err, want)
		}
	}
	if _, err := run(t, seq, other); err == nil || !strings.Contains(err.Error(), "request 4") || !strings.Contains(err.Error(), "has 3 recordings") {
		t.Fatalf("past the end: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		in     string
		ok     bool
		want   string // error substring
		mode   string
		match  string
		inPath string
	}{
		{in: `{}`},
		{in: ``},
		{in: `null`},
		{in: `{"file":"c.jsonl","data_dir":"/d"}`, ok: true, mode: ModeReplay, match: MatchExact, inPath: "/d/c.jsonl"},
		{in: `{"file":"/abs/c.jsonl","match":"sequence"}`, ok: true, mode: ModeReplay, match: MatchSequence, inPath: "/abs/c.jsonl"},
		{in: `{"mode":"record","file":"c.jsonl","upstream":"http://127.0.0.1:8000/v1","data_dir":"/d"}`, ok: true, mode: ModeRecord, match: MatchExact, inPath: "/d/c.jsonl"},
		{in: `{"mode":"record","file":"c.jsonl"}`, want: "mode record needs upstream"},
		{in: `{"mode":"play","file":"c"}`, want: `mode must be "record" or "replay", got "play"`},
		{in: `{"file":"c","match":"fuzzy"}`, want: `match must be "exact" or "sequence"`},
		{in: `{"mode":"replay"}`, want: "file is required"},
		{in: `{"fil":"c"}`, want: `unknown field "fil" (keys: mode, file`},
		{in: `{not json`, want: "model-replay config"},
		{in: `{"file":"c","timeout":"soon"}`, want: "bad duration"},
	}
	for _, tc := range tests {
		cfg, ok, err := ParseConfig([]byte(tc.in))
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.want)
			}
			continue
		}
		if err != nil || ok != tc.ok || cfg.Mode != tc.mode || cfg.Match != tc.match || (ok && cfg.Path() != tc.inPath) {
			t.Errorf("%s: %+v ok=%v err=%v path=%s", tc.in, cfg, ok, err, cfg.Path())
		}
	}
	t.Setenv("CLOUDPHONE_DATA__DIR", "/envdata")
	if p := (Config{File: "c.jsonl"}).Path(); p != "/envdata/c.jsonl" {
		t.Errorf("path %s", p)
	}
	t.Setenv("CLOUDPHONE_DATA__DIR", "")
	if p := (Config{File: "c.jsonl"}).Path(); p != "data/c.jsonl" {
		t.Errorf("path %s", p)
	}
}
