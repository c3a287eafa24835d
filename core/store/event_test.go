package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/core/agent"
)

func TestKindStepIsTheAgents(t *testing.T) {
	if KindStep != agent.EventStep {
		t.Fatalf("KindStep %q != agent.EventStep %q", KindStep, agent.EventStep)
	}
}

func TestAppendAndReadEvents(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG fake screen 1")
	for i := 1; i <= 5; i++ {
		body, _ := json.Marshal(agent.Event{TaskID: "t", Seq: i, Kind: agent.EventStep, Step: i, Thinking: "思考"})
		ev := Event{TaskID: "t", Kind: KindStep, Step: i, Body: body}
		if i%2 == 1 {
			ev.Screenshot = png
		}
		got, err := s.AppendEvent(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != i {
			t.Fatalf("event %d got seq %d", i, got.Seq)
		}
		if i%2 == 1 && got.ScreenshotSHA256 == "" {
			t.Fatal("screenshot hash not set")
		}
	}
	if last, err := s.LastSeq(ctx, "t"); err != nil || last != 5 {
		t.Errorf("LastSeq = %d, %v; want 5", last, err)
	}
	if tk, _ := s.Task(ctx, "t"); tk.Steps != 5 {
		t.Errorf("steps = %d, want 5", tk.Steps)
	}
	for _, c := range []struct{ after, limit, first, n int }{
		{0, 0, 1, 5}, {2, 0, 3, 3}, {2, 2, 3, 2}, {5, 0, 0, 0}, {99, 0, 0, 0},
	} {
		evs, err := s.Events(ctx, "t", c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != c.n || (c.n > 0 && evs[0].Seq != c.first) {
			t.Errorf("after %d limit %d: %d events from %v", c.after, c.limit, len(evs), evs)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq != evs[i-1].Seq+1 {
				t.Errorf("events out of order: %d after %d", evs[i].Seq, evs[i-1].Seq)
			}
		}
	}
	evs, _ := s.Events(ctx, "t", 0, 1)
	var back agent.Event
	if err := json.Unmarshal(evs[0].Body, &back); err != nil || back.Thinking != "思考" {
		t.Errorf("body round trip: %+v, %v", back, err)
	}
	shot, err := s.Screenshot(ctx, evs[0].ScreenshotSHA256)
	if err != nil || !bytes.Equal(shot, png) {
		t.Errorf("screenshot read back %q, %v", shot, err)
	}
}

func TestAppendEventErrors(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(ctx, Event{TaskID: "t", Seq: 1, Kind: "step"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ev   Event
		want error
	}{
		{"seq taken", Event{TaskID: "t", Seq: 1, Kind: "step"}, ErrConflict},
		{"unknown task", Event{TaskID: "nope", Kind: "step"}, ErrNotFound},
		{"no task id", Event{Kind: "step"}, ErrInvalid},
		{"no kind", Event{TaskID: "t"}, ErrInvalid},
		{"negative seq", Event{TaskID: "t", Seq: -1, Kind: "x"}, ErrInvalid},
		{"bad json", Event{TaskID: "t", Kind: "x", Body: json.RawMessage("{oops")}, ErrInvalid},
		{"bad hash", Event{TaskID: "t", Kind: "x", ScreenshotSHA256: "../../etc/passwd"}, ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.AppendEvent(ctx, c.ev); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestAppendEventConcurrent: concurrent appends with assigned seqs get
// distinct, gapless seqs.
func TestAppendEventConcurrent(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if _, _, err := s.CreateTask(ctx, Task{ID: "t", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := s.AppendEvent(ctx, Event{TaskID: "t", Kind: "infer"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	evs, err := s.Events(ctx, "t", 0, 0)
	if err != nil || len(evs) != 50 || evs[49].Seq != 50 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
}

func TestScreenshotsContentAddressed(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	png := []byte("\x89PNG same screen")
	h1, err := s.PutScreenshot(ctx, png)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(png)
	if h1 != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash %s is not the content's sha256", h1)
	}
	h2, err := s.PutScreenshot(ctx, png)
	if err != nil || h2 != h1 {
		t.Fatalf("second put: %s, %v", h2, err)
	}
	path := filepath.Join(s.Dir(), "screenshots", h1[:2], h1+".png")
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, png) {
		t.Fatalf("file %s: %v", path, err)
	}
	var files []string
	_ = filepath.WalkDir(filepath.Join(s.Dir(), "screenshots"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Errorf("files %v, want one (deduplicated, no temp files left)", files)
	}
	for _, c := range []struct {
		hash string
		want error
	}{
		{strings.Repeat("0", 64), ErrNotFound},
		{"../x", ErrInvalid},
		{strings.ToUpper(h1), ErrInvalid},
		{h1[:63], ErrInvalid},
	} {
		if _, err := s.Screenshot(ctx, c.hash); !errors.Is(err, c.want) {
			t.Errorf("Screenshot(%q): err = %v, want %v", c.hash, err, c.want)
		}
	}
	if _, err := s.PutScreenshot(ctx, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty screenshot: err = %v, want ErrInvalid", err)
	}
}

// TestScreenshotDamagedIsNotServed: a file whose content no longer matches
// its name (truncated by an OS crash without fsync, or damaged) is refused
// and removed, and keeping the screen again restores it.
func TestScreenshotDamagedIsNotServed(t *testing.T) {
	s := openTest(t, Options{Sync: SyncNormal})
	ctx := context.Background()
	png := []byte("\x89PNG a screen that will be truncated")
	h, err := s.PutScreenshot(ctx, png)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), "screenshots", h[:2], h+".png")
	if err := os.WriteFile(path, png[:5], 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Screenshot(ctx, h); !errors.Is(err, ErrNotFound) {
		t.Fatalf("damaged file: err = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("damaged file kept: %v", err)
	}
	if _, err := s.PutScreenshot(ctx, png); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Screenshot(ctx, h); err != nil || !bytes.Equal(got, png) {
		t.Errorf("after keeping it again: %q, %v", got, err)
	}
}
