package ring

import (
	"encoding/binary"
	"fmt"
)

// Shared layout, version 1 (docs/ring.md is the reference). All integers
// are little-endian. The header is one 4 KiB page; each counter written by
// a different party sits on its own 64-byte cache line.
const (
	magic   = 0x47525043 // "CPRG" as little-endian bytes
	version = 1

	headerSize = 4096
	descSize   = 64
	lineSize   = 64

	// Line 0: geometry (written once by the owner).
	offMagic      = 0  // u32
	offVersion    = 4  // u32
	offEntries    = 8  // u32
	offDescSize   = 12 // u32
	offArenaBytes = 16 // u64
	offChunkSize  = 24 // u32
	offHeaderSize = 28 // u32
	offSQ         = 32 // u64 byte offset of the SQ slots
	offCQ         = 40 // u64 byte offset of the CQ slots
	offArena      = 48 // u64 byte offset of the arena
	offFileSize   = 56 // u64 total mapping size

	offSQTail    = 1 * lineSize // u64, producers (owner process)
	offSQHead    = 2 * lineSize // u64, consumer
	offCQTail    = 3 * lineSize // u64, consumer process
	offCQHead    = 4 * lineSize // u64, owner
	offSQBell    = 5 * lineSize // u32 futex word, bumped by producers
	offSQWaiters = offSQBell + 4
	offCQBell    = 6 * lineSize // u32 futex word, bumped by the consumer
	offCQWaiters = offCQBell + 4

	// Line 7: consumer attachment, written by the consumer (and by the
	// owner while recovering).
	offConsumerState = 7 * lineSize // u32: consumerNone/Attached/Recovering/Detached
	offConsumerPID   = offConsumerState + 4
	offHeartbeat     = offConsumerState + 8  // u64, advanced by the consumer
	offEpoch         = offConsumerState + 16 // u32, bumped on every attach
	offConsumerPidNS = offConsumerState + 24 // u64 inode of the consumer's pid namespace (0 unknown)

	// Line 8: owner.
	offOwnerPID = 8 * lineSize // u32
	offClosed   = offOwnerPID + 4
)

// Consumer states (header word offConsumerState).
const (
	consumerNone       = 0
	consumerAttached   = 1
	consumerRecovering = 2
	consumerDetached   = 3
)

// geometry is the sizes and offsets of one ring's memory.
type geometry struct {
	entries    uint32
	arenaBytes uint64
	chunk      uint32
	sq, cq     uint64
	arena      uint64
	size       uint64
}

func align(n, a uint64) uint64 { return (n + a - 1) / a * a }

func newGeometry(entries, arenaBytes int) geometry {
	g := geometry{entries: uint32(entries), arenaBytes: uint64(arenaBytes)}
	g.chunk = uint32(arenaBytes/(2*entries)) / 64 * 64
	g.sq = headerSize
	g.cq = g.sq + uint64(entries)*descSize
	g.arena = align(g.cq+uint64(entries)*descSize, 4096)
	g.size = align(g.arena+g.arenaBytes, 4096)
	return g
}

// writeHeader fills line 0 of a fresh mapping.
func (g geometry) writeHeader(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[offMagic:], magic)
	le.PutUint32(b[offVersion:], version)
	le.PutUint32(b[offEntries:], g.entries)
	le.PutUint32(b[offDescSize:], descSize)
	le.PutUint64(b[offArenaBytes:], g.arenaBytes)
	le.PutUint32(b[offChunkSize:], g.chunk)
	le.PutUint32(b[offHeaderSize:], headerSize)
	le.PutUint64(b[offSQ:], g.sq)
	le.PutUint64(b[offCQ:], g.cq)
	le.PutUint64(b[offArena:], g.arena)
	le.PutUint64(b[offFileSize:], g.size)
}

// readGeometry checks a mapped header and returns its geometry; it trusts
// nothing in it.
func readGeometry(b []byte) (geometry, error) {
	if len(b) < headerSize {
		return geometry{}, fmt.Errorf("ring header: file is %d bytes, want at least %d", len(b), headerSize)
	}
	le := binary.LittleEndian
	if m := le.Uint32(b[offMagic:]); m != magic {
		return geometry{}, fmt.Errorf("ring header: bad magic %#x, want %#x", m, magic)
	}
	if v := le.Uint32(b[offVersion:]); v != version {
		return geometry{}, fmt.Errorf("ring header: version %d, this build speaks %d", v, version)
	}
	if d := le.Uint32(b[offDescSize:]); d != descSize {
		return geometry{}, fmt.Errorf("ring header: descriptor size %d, want %d", d, descSize)
	}
	if h := le.Uint32(b[offHeaderSize:]); h != headerSize {
		return geometry{}, fmt.Errorf("ring header: header size %d, want %d", h, headerSize)
	}
	n := le.Uint32(b[offEntries:])
	if n < 2 || n > 65536 || n&(n-1) != 0 {
		return geometry{}, fmt.Errorf("ring header: entries %d is not a power of two from 2 to 65536", n)
	}
	arena := le.Uint64(b[offArenaBytes:])
	if arena == 0 || arena >= 4<<30 {
		return geometry{}, fmt.Errorf("ring header: arena of %d bytes out of range", arena)
	}
	want := newGeometry(int(n), int(arena))
	got := geometry{
		entries:    n,
		arenaBytes: arena,
		chunk:      le.Uint32(b[offChunkSize:]),
		sq:         le.Uint64(b[offSQ:]),
		cq:         le.Uint64(b[offCQ:]),
		arena:      le.Uint64(b[offArena:]),
		size:       le.Uint64(b[offFileSize:]),
	}
	if got != want {
		return geometry{}, fmt.Errorf("ring header: offsets %+v disagree with entries %d and arena %d (want %+v)", got, n, arena, want)
	}
	if uint64(len(b)) < got.size {
		return geometry{}, fmt.Errorf("ring header: file is %d bytes, header says %d", len(b), got.size)
	}
	return got, nil
}
