package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// syncLog collects a node's plugin syncs.
type syncLog struct {
	mu sync.Mutex
	s  []PluginSync
}

func (l *syncLog) add(s PluginSync) {
	l.mu.Lock()
	l.s = append(l.s, s)
	l.mu.Unlock()
}

func (l *syncLog) refused(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.s {
		if s.Name == name && s.Err != nil {
			return s.Err
		}
	}
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestPluginPush: a plugin pushed on one node lands in all three plugin
// directories, whole and with its sha256, within 5 s; an object whose bytes
// do not match its sha256, or a pinned name with another hash, is refused
// and never written; a removed plugin leaves every directory.
func TestPluginPush(t *testing.T) {
	cl := startCluster(t, 3)
	nodes := make([]*Node, 3)
	dirs := make([]string, 3)
	logs := make([]*syncLog, 3)
	// Node 2 prepares what it fetched before publishing it: the hidden
	// temporary file, whole, not yet in place.
	var prepMu sync.Mutex
	var prepared []string
	prepare := func(_ context.Context, name, path string) error {
		data, err := os.ReadFile(path)
		_, published := os.Stat(filepath.Join(filepath.Dir(path), name))
		prepMu.Lock()
		defer prepMu.Unlock()
		prepared = append(prepared, fmt.Sprintf("%s hidden=%v sha=%s published=%v err=%v",
			name, strings.HasPrefix(filepath.Base(path), "."), sum(data)[:8], published == nil, err))
		return errors.New("a failed preparation does not stop the sync")
	}
	for i := range nodes {
		dirs[i], logs[i] = t.TempDir(), &syncLog{}
		o := Options{NodeID: fmt.Sprintf("p%d", i+1), NATSURL: cl.URL(), PluginDir: dirs[i], OnPlugin: logs[i].add}
		if i == 1 {
			o.Prepare = prepare
		}
		if i == 2 {
			o.Pins = func() map[string]string { return map[string]string{"pinned": strings.Repeat("0", 64)} }
		}
		nodes[i] = openNode(t, o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	src := filepath.Join(t.TempDir(), "planner-x")
	body := bytes.Repeat([]byte("#!/bin/sh\necho plugin\n"), 50_000) // ~1 MiB: several chunks
	if err := os.WriteFile(src, body, 0o755); err != nil {
		t.Fatal(err)
	}
	pushed := time.Now()
	obj, err := nodes[0].PushPlugin(ctx, "", src)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Name != "planner-x" || obj.SHA256 != sum(body) || obj.Size != uint64(len(body)) || obj.PushedBy != "p1" {
		t.Fatalf("pushed %+v", obj)
	}
	waitFor(t, 5*time.Second, func() error {
		for _, d := range dirs {
			p := filepath.Join(d, "planner-x")
			if got := fileSHA256(p); got != obj.SHA256 {
				return fmt.Errorf("%s has sha256 %q", p, got)
			}
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o755 {
				return fmt.Errorf("%s: mode %v, %v", p, st.Mode(), err)
			}
		}
		return nil
	})
	t.Logf("1 MiB plugin in all three directories %s after the push", time.Since(pushed).Round(time.Millisecond))
	prepMu.Lock()
	got := strings.Join(prepared, "; ")
	prepMu.Unlock()
	if want := "planner-x hidden=true sha=" + obj.SHA256[:8] + " published=false err=<nil>"; got != want {
		t.Errorf("prepared: %s, want %s", got, want)
	}
	for _, d := range dirs {
		ents, _ := os.ReadDir(d)
		if len(ents) != 1 {
			t.Errorf("%s holds %d entries, want only the plugin (no temporary files left)", d, len(ents))
		}
	}
	list, err := nodes[1].Plugins(ctx)
	if err != nil || len(list) != 1 || list[0].SHA256 != obj.SHA256 {
		t.Fatalf("plugins %+v, %v", list, err)
	}

	// An object whose metadata claims another hash is refused everywhere.
	bad := []byte("\x00asm\x01\x00\x00\x00 tampered")
	if _, err := nodes[0].plugins.Put(ctx, jetstream.ObjectMeta{Name: "evil.wasm",
		Metadata: map[string]string{metaSHA256: sum([]byte("the original"))}}, bytes.NewReader(bad)); err != nil {
		t.Fatal(err)
	}
	// A good plugin pinned to another hash on p3 is refused there only.
	pinnedSrc := filepath.Join(t.TempDir(), "pinned")
	if err := os.WriteFile(pinnedSrc, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[1].PushPlugin(ctx, "", pinnedSrc); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() error {
		for i, l := range logs {
			if err := l.refused("evil.wasm"); !errors.Is(err, ErrPluginVerify) {
				return fmt.Errorf("node %d: evil.wasm refusal %v", i+1, err)
			}
		}
		if err := logs[2].refused("pinned"); !errors.Is(err, ErrPluginVerify) || !strings.Contains(err.Error(), "plugins.pin") {
			return fmt.Errorf("p3: pinned refusal %v", err)
		}
		for _, d := range dirs[:2] {
			if fileSHA256(filepath.Join(d, "pinned")) == "" {
				return fmt.Errorf("pinned not in %s", d)
			}
		}
		return nil
	})
	for i, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "evil.wasm")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("node %d wrote the tampered plugin: %v", i+1, err)
		}
		if i == 2 {
			if _, err := os.Stat(filepath.Join(d, "pinned")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("p3 wrote a plugin its pin refuses: %v", err)
			}
		}
	}

	if err := nodes[2].RemovePlugin(ctx, "planner-x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() error {
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "planner-x")); !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("planner-x still in %s", d)
			}
		}
		return nil
	})
}

func TestPushPluginRefuses(t *testing.T) {
	n := openNode(t, Options{NodeID: "solo", DataDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	good := filepath.Join(dir, "p")
	if err := os.WriteFile(good, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{".hidden", good, "ignores"},
		{"x.tmp", good, "ignores"},
		{"../up", good, "plain file name"},
		{"a/b", good, "plain file name"},
		{"missing", filepath.Join(dir, "nope"), "no such file"},
		{"dir", dir, "not a regular file"},
	} {
		if _, err := n.PushPlugin(ctx, tc.name, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("push %q from %s: %v, want an error containing %q", tc.name, tc.path, err, tc.want)
		}
	}
}

// TestWatchProgress: a read that stops receiving data is ended by the
// watchdog (its context canceled) once it has been idle long enough; a
// read that keeps receiving is left alone. The source behaves as the
// bucket's object reader does: a read that gets nothing for a while
// returns no bytes and no error, and the next one returns the context's
// error once it has ended.
func TestWatchProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	chunks := make(chan []byte, 5)
	for range 5 { // some data, then nothing
		chunks <- []byte("chunk")
	}
	src := &pollingReader{ctx: ctx, chunks: chunks, wait: 20 * time.Millisecond}
	body, stalled := watchProgress(ctx, cancel, src, 200*time.Millisecond)
	n, err := io.Copy(io.Discard, body)
	if !errors.Is(err, context.Canceled) || n != 25 {
		t.Fatalf("copy = %d, %v; want 25 bytes then context.Canceled", n, err)
	}
	if !stalled() {
		t.Fatal("the watchdog did not report the stall")
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	body, stalled = watchProgress(ctx2, cancel2, strings.NewReader("all of it"), time.Minute)
	if b, err := io.ReadAll(body); err != nil || string(b) != "all of it" || stalled() {
		t.Fatalf("a read that kept going: %q, %v, stalled %v", b, err, stalled())
	}
	if ctx2.Err() != nil {
		t.Fatal("the watchdog canceled a read that made progress")
	}
}

// pollingReader reads chunks like jetstream's object reader: it returns
// the context's error once the context has ended, else the next chunk, or
// no bytes and no error when none came within wait.
type pollingReader struct {
	ctx    context.Context
	chunks chan []byte
	wait   time.Duration
}

func (r *pollingReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	select {
	case c := <-r.chunks:
		return copy(p, c), nil
	case <-time.After(r.wait):
		return 0, nil
	}
}
