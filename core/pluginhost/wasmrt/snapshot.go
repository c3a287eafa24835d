package wasmrt

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// Snapshots. A Go guest's _initialize (the Go runtime, then every
// package's init) runs in every new instance: when a pool grows, recycles
// or replaces an instance, and in a swap to a file compiled before. So
// after the first instance of a compiled module has run
// _initialize, and before anything else runs on it, the host records the
// instance's state: its linear memory, every mutable global, and the
// readings of its fake clocks and deterministic random source. A later
// instance of the same compiled module starts from that record instead of
// running _initialize: its memory is grown to the same size and
// overwritten, its globals set, its clocks and random source resume where
// the recorded instance's were. It is then the state the recorded instance
// had, bit for bit, which is the state _initialize would have produced
// again, since everything a guest can observe is deterministic here.
//
// That holds only if nothing else carries state, so a module gets
// snapshots only when
//   - instrument could export every mutable global (i32, i64, f32, f64;
//     none imported; the reserved export names unused), so the host can
//     read and set them;
//   - its code never changes a table (table.set, .init, .copy, .grow,
//     .fill) nor drops a segment (data.drop, elem.drop), state that lives
//     in the wazero instance, not in linear memory;
//   - the runtime has no Options.RandSource: with real randomness a Go
//     runtime seeds its hash functions and math/rand from it at init, and
//     instances started from one snapshot would share those seeds.
//
// The rest of a wasm instance's state is per instantiation and the same
// for every instance: WASI's file table (stdin, stdout, stderr; no
// preopens, so nothing can be opened), arguments and environment (none),
// and the host side of the instance (output log, deadline watch), which
// is new for each. The Go runtime keeps everything else (heap, goroutines,
// scheduler, timers) in linear memory and its few globals (SP, g, ...).
// Options.NoSnapshots turns the whole mechanism off.

// snapshotExportPrefix starts the names instrument exports globals under.
const snapshotExportPrefix = "cp.snapshot.global."

// snapshotLayout names the globals of a module that a snapshot records.
type snapshotLayout struct {
	globals []uint32 // global indices
	names   []string // their export names
}

func newSnapshotLayout(globals []uint32) *snapshotLayout {
	l := &snapshotLayout{globals: globals, names: make([]string, len(globals))}
	for i, g := range globals {
		l.names[i] = snapshotExportPrefix + strconv.FormatUint(uint64(g), 10)
	}
	return l
}

// exports encodes the export entries of the layout's globals.
func (l *snapshotLayout) exports() []byte {
	var b []byte
	for i, g := range l.globals {
		b = appendName(b, l.names[i])
		b = appendU32(append(b, 0x03), g) // global
	}
	return b
}

// scanGlobals lists the mutable globals of a global section whose first
// global has index first, or says why a snapshot cannot restore them.
func scanGlobals(body []byte, first uint32) (mutable []uint32, why string) {
	r := reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		typ, mut := r.byte(), r.byte()
		if !r.skipConstExpr() {
			return nil, "global initializer not understood"
		}
		if mut == 0 {
			continue
		}
		switch typ {
		case 0x7f, 0x7e, 0x7d, 0x7c: // i32, i64, f32, f64
			mutable = append(mutable, first+i)
		default: // v128, references: not readable as one uint64 / instance-bound
			return nil, fmt.Sprintf("mutable global %d has type %#x", first+i, typ)
		}
	}
	if r.err != nil {
		return nil, "global section: " + r.err.Error()
	}
	return mutable, ""
}

// skipConstExpr skips a constant expression up to its end, and reports
// whether it understood it.
func (r *reader) skipConstExpr() bool {
	for r.err == nil {
		switch op := r.byte(); {
		case op == 0x0b: // end
			return r.err == nil
		case r.skipConstImmediate(op):
		case op == 0x23, op == 0xd2: // global.get, ref.func
			r.leb(5)
		case op == 0x6a, op == 0x6b, op == 0x6c, op == 0x7c, op == 0x7d, op == 0x7e: // extended const
		default:
			return false
		}
	}
	return false
}

// scanExports says why the reserved export names cannot be added, or "".
func scanExports(body []byte) string {
	r := reader{b: body}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		name := r.name()
		r.byte()
		r.u32()
		if strings.HasPrefix(name, snapshotExportPrefix) {
			return "module already exports " + name
		}
	}
	if r.err != nil {
		return "export section: " + r.err.Error()
	}
	return ""
}

// snapshot is an instance's state right after _initialize.
type snapshot struct {
	mem     []byte
	globals []uint64
	env     envState
}

// takeSnapshot records mod's state; env is the instance's environment.
func takeSnapshot(mod api.Module, l *snapshotLayout, env *guestEnv) (*snapshot, error) {
	mem := mod.Memory()
	if mem == nil {
		return nil, errors.New("module exports no memory")
	}
	view, ok := mem.Read(0, mem.Size())
	if !ok {
		return nil, errors.New("read memory")
	}
	s := &snapshot{mem: append([]byte(nil), view...), globals: make([]uint64, len(l.names)), env: env.state()}
	for i, name := range l.names {
		g := mod.ExportedGlobal(name)
		if g == nil {
			return nil, fmt.Errorf("global %s is not exported", name)
		}
		s.globals[i] = g.Get()
	}
	return s, nil
}

// restore makes mod, just instantiated (without _initialize), the
// snapshotted instance.
func (s *snapshot) restore(mod api.Module, l *snapshotLayout) error {
	mem := mod.Memory()
	if mem == nil {
		return errors.New("module exports no memory")
	}
	size := uint32(len(s.mem))
	switch cur := mem.Size(); {
	case cur > size:
		return fmt.Errorf("memory starts at %d bytes, more than the snapshot's %d", cur, size)
	case cur < size:
		if _, ok := mem.Grow((size - cur) / wasmPageSize); !ok {
			return fmt.Errorf("grow memory to %d bytes", size)
		}
	}
	view, ok := mem.Read(0, size)
	if !ok {
		return fmt.Errorf("memory is not %d bytes", size)
	}
	copy(view, s.mem)
	for i, name := range l.names {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("global %s is not exported mutable", name)
		}
		g.Set(s.globals[i])
	}
	return nil
}

// wasmPageSize is the unit of linear memory.
const wasmPageSize = 64 << 10

// fakeEpochNanos is where an instance's wall clock starts, as wazero's
// default fake clock: 2022-01-01T00:00:00Z.
const fakeEpochNanos = 1640995200 * int64(1e9)

// fakeRandSeed seeds the deterministic random source, as wazero's default.
const fakeRandSeed = 42

// guestEnv is an instance's clocks and random source: the fakes wazero
// uses by default (clocks that advance 1 ms per reading, a seeded random
// stream), with their position readable, so that a snapshot can record it
// and an instance started from the snapshot resume there.
type guestEnv struct {
	wall, nano atomic.Int64 // readings so far
	rand       countingReader
}

// envState is a guestEnv's position.
type envState struct {
	wall, nano, rand int64
}

// newGuestEnv returns an environment at position st.
func newGuestEnv(st envState) (*guestEnv, error) {
	e := &guestEnv{}
	e.wall.Store(st.wall)
	e.nano.Store(st.nano)
	e.rand.r = rand.New(rand.NewSource(fakeRandSeed))
	if st.rand > 0 {
		if _, err := io.CopyN(io.Discard, &e.rand, st.rand); err != nil {
			return nil, fmt.Errorf("position random source: %w", err)
		}
	}
	return e, nil
}

func (e *guestEnv) state() envState {
	return envState{wall: e.wall.Load(), nano: e.nano.Load(), rand: e.rand.n.Load()}
}

// walltime is a fake wall clock: 2022-01-01, then 1 ms more per reading.
func (e *guestEnv) walltime() (sec int64, nsec int32) {
	t := fakeEpochNanos + (e.wall.Add(1)-1)*1e6
	return t / 1e9, int32(t % 1e9)
}

// nanotime is a fake monotonic clock: 0, then 1 ms more per reading.
func (e *guestEnv) nanotime() int64 { return (e.nano.Add(1) - 1) * 1e6 }

// Clock resolutions reported to the guest, as wazero's defaults.
const (
	walltimeResolution = sys.ClockResolution(1000) // 1 µs
	nanotimeResolution = sys.ClockResolution(1)
)

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// heapAllocator makes linear memories on the Go heap (as wazero does by
// default) whose first allocation has room for at least hint bytes, so
// that growing an instance to the size an initialized one has, from a
// snapshot or while _initialize runs, allocates once instead of copying
// the memory at every step. Bytes past a memory's length are never
// written, so they are still zero when it grows into them.
type heapAllocator struct{ hint uint64 }

func (a heapAllocator) Allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	capacity = min(max(capacity, a.hint), maxBytes)
	return &heapMemory{buf: make([]byte, 0, capacity), max: maxBytes}
}

// heapMemory is a linear memory made by heapAllocator.
type heapMemory struct {
	buf []byte
	max uint64
}

func (h *heapMemory) Reallocate(size uint64) []byte {
	if size > h.max {
		return nil
	}
	if size <= uint64(cap(h.buf)) {
		h.buf = h.buf[:size]
		return h.buf
	}
	// Grow by a quarter at least, as append does for large slices.
	c := min(max(size, uint64(cap(h.buf))+uint64(cap(h.buf))/4), h.max)
	buf := make([]byte, size, c)
	copy(buf, h.buf)
	h.buf = buf
	return buf
}

func (h *heapMemory) Free() { h.buf = nil }
