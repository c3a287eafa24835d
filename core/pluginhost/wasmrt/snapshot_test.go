package wasmrt

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestGoGuestsGetSnapshots: a Go guest built with the SDK is a module
// instrument can snapshot, and its first instance's state is recorded.
func TestGoGuestsGetSnapshots(t *testing.T) {
	bin, err := os.ReadFile(pluginbuild.BuildWasm(t, helloDir, ""))
	if err != nil {
		t.Fatal(err)
	}
	im, err := instrumentModule(bin)
	if err != nil {
		t.Fatal(err)
	}
	if im.snap == nil {
		t.Fatalf("planner-hello cannot be snapshotted: %s", im.noSnapshot)
	}
	// Go's wasm globals (SP, CTXT, g, RET0-3, PAUSE) and the counter.
	if n := len(im.snap.globals); n < 2 {
		t.Errorf("%d mutable globals recorded, want Go's and the counter", n)
	}
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, helloDir, "")
	s := m.entry.snap.Load()
	if s == nil {
		t.Fatal("no snapshot after the first instance")
	}
	if len(s.mem) == 0 || len(s.mem)%wasmPageSize != 0 || s.env.nano == 0 {
		t.Errorf("snapshot: %d bytes of memory, env %+v", len(s.mem), s.env)
	}
}

// TestSnapshotInstancesBehaveAsFresh compares a sequence of calls on
// instances started from a snapshot with the same sequence on instances
// that each ran _initialize: clocks and the random source must resume
// exactly where the snapshotted instance had them, so every answer is the
// same. Each instance serves 4 calls (recycling), so most of them are
// restored ones.
func TestSnapshotInstancesBehaveAsFresh(t *testing.T) {
	ctx := context.Background()
	calls := []string{"time", "rand", "time", "rand"}
	run := func(noSnap bool) ([]string, Stats) {
		r := newTestRuntime(t, Options{PoolSize: 1, MaxCallsPerInstance: len(calls), NoSnapshots: noSnap})
		m := loadTest(t, r, sandboxDir, "")
		var got []string
		for range 4 {
			for _, c := range calls {
				resp, err := m.Plan(ctx, screenReq(c, 1))
				if err != nil {
					t.Fatalf("Plan(%s): %v", c, err)
				}
				got = append(got, resp.GetThinking())
			}
		}
		return got, m.Stats()
	}
	fresh, fst := run(true)
	restored, rst := run(false)
	if fst.Restored != 0 {
		t.Errorf("NoSnapshots: Stats = %+v, want no restored instance", fst)
	}
	if rst.Restored < 3 || rst.Recycled < 3 {
		t.Errorf("Stats = %+v, want at least 3 instances restored from the snapshot", rst)
	}
	if !slices.Equal(fresh, restored) {
		t.Errorf("answers differ:\nfresh instances    %q\nrestored instances %q", fresh, restored)
	}
	if !strings.HasPrefix(fresh[0], "2022-01-01T") {
		t.Errorf("time = %q, want the fake clock", fresh[0])
	}
}

// TestSnapshotManyCalls runs many 4 KiB calls on one restored instance,
// then on instances recycled often: every call succeeds and the guest
// heap stays bounded.
func TestSnapshotManyCalls(t *testing.T) {
	ctx := context.Background()
	r := newTestRuntime(t, Options{PoolSize: 1, MaxCallsPerInstance: -1, MaxInstanceMemoryMiB: -1})
	m := loadTest(t, r, helloDir, "")
	// Replace the validated instance by a restored one.
	in, err := m.acquire(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	m.discard(in)
	req := request4KiB()
	const calls = 20_000
	for i := range calls {
		if _, err := m.Plan(ctx, req); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := m.Stats()
	if st.Restored != 1 || st.Trapped != 0 {
		t.Fatalf("Stats = %+v, want one restored instance throughout", st)
	}
	start := uint64(len(m.entry.snap.Load().mem))
	t.Logf("restored instance: %.1f MiB at start, %.1f MiB after %d calls",
		float64(start)/(1<<20), float64(st.MaxMemoryBytes)/(1<<20), calls)
	if st.MaxMemoryBytes > start+16<<20 {
		t.Errorf("guest memory grew from %d to %d bytes in %d calls", start, st.MaxMemoryBytes, calls)
	}

	r2 := newTestRuntime(t, Options{PoolSize: 2, MaxCallsPerInstance: 7})
	m2 := loadTest(t, r2, helloDir, "")
	for i := range 500 {
		resp, err := m2.Plan(ctx, req)
		if err != nil || resp.GetAction() == nil {
			t.Fatalf("call %d: %v, %v", i, resp, err)
		}
	}
	if st := m2.Stats(); st.Restored < 60 || st.Trapped != 0 {
		t.Errorf("Stats = %+v, want ~70 restored instances, none trapped", st)
	}
}

// TestSnapshotAfterDeadline: an instance stopped by its deadline is
// replaced by one restored from the snapshot, which serves normally, and
// a runaway call on a restored instance is stopped too.
func TestSnapshotAfterDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	r := newTestRuntime(t, Options{CallTimeout: timeout, PoolSize: 1})
	m := loadTest(t, r, loopDir, "")
	ctx := context.Background()
	for i := range 3 {
		if _, err := m.Plan(ctx, screenReq("loop", 1)); !errors.Is(err, ErrTimeout) {
			t.Fatalf("Plan(loop) #%d = %v, want ErrTimeout", i, err)
		}
		resp, err := m.Plan(ctx, screenReq("finish", 1))
		if err != nil || resp.GetFinish() == nil {
			t.Fatalf("Plan after timeout #%d = %v, %v", i, resp, err)
		}
	}
	if st := m.Stats(); st.TimedOut != 3 || st.Restored != 3 || st.Instances != 1 {
		t.Errorf("Stats = %+v, want 3 timed out, 3 restored, 1 live", st)
	}
}

// TestSnapshotRefusals: modules whose state a snapshot cannot restore get
// none, and the runtime takes none with a real random source.
func TestSnapshotRefusals(t *testing.T) {
	base := loopModule(true)
	withTableSet := func() []byte {
		b := loopModule(true)
		b = b[:len(b)-11] // the code section
		// body: no locals; i32.const 0; ref.null func; table.set 0; end
		body := []byte{0, 0x41, 0, 0xd0, 0x70, 0x26, 0, 0x0b}
		code := append(appendU32([]byte{1}, uint32(len(body))), body...)
		return append(appendU32(append(b, secCode), uint32(len(code))), code...)
	}
	tests := []struct {
		name string
		bin  []byte
		want string
	}{
		{"loop module", base, ""},
		{"table.set", withTableSet(), "changes tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := instrumentModule(tt.bin)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if im.snap == nil {
					t.Fatalf("no snapshot: %s", im.noSnapshot)
				}
				return
			}
			if im.snap != nil || !strings.Contains(im.noSnapshot, tt.want) {
				t.Fatalf("snapshot layout %v (%q), want none because it %s", im.snap, im.noSnapshot, tt.want)
			}
		})
	}

	ctx := context.Background()
	r := newTestRuntime(t, Options{RandSource: strings.NewReader(strings.Repeat("x", 1<<20)), PoolSize: 1, MaxCallsPerInstance: 1})
	m := loadTest(t, r, helloDir, "")
	for range 3 {
		if _, err := m.Plan(ctx, screenReq("hello", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if st := m.Stats(); st.Restored != 0 {
		t.Errorf("with a RandSource: Stats = %+v, want no restored instance", st)
	}
}
