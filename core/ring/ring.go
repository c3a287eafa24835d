package ring

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Ring is one queue pair: the owner side (producers: Submit, Reap, Call),
// the consumer side (Fetch, Complete), or both for an in-process ring from
// New. All methods are safe for concurrent use; Fetch calls are serialized
// (one consumer per ring).
type Ring struct {
	opts   Options
	g      geometry
	mem    []byte
	shared bool // futexes without FUTEX_PRIVATE_FLAG (a shared mapping)
	path   string
	owner  bool // producer methods allowed
	cons   bool // consumer methods allowed
	closed atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup
	// parkSQ and parkCQ are the doorbells of an in-process ring: sleepers
	// park on them instead of a futex (cap 1: a token is a pending wake).
	parkSQ, parkCQ chan struct{}
	// local is the in-process transport's queues (New); nil on a shared
	// ring, whose SQ and CQ are the slots in mem.
	local *localRings

	producerState
	consumerState
}

// New builds an in-process ring in Go memory; the same Ring has both the
// producer and the consumer methods. Its SQ and CQ are localQueues of Go
// values, not the shared descriptor slots: the producer is this process's
// own code, so nothing is encoded, decoded or validated, and a batch costs
// a few atomics however many commands it holds.
func New(opts Options) (*Ring, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new ring: %w", err)
	}
	g := newGeometry(o.Entries, o.ArenaBytes)
	words := make([]uint64, g.size/8) // 8-byte aligned, never moved by the GC
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), g.size)
	r := &Ring{opts: o, g: g, mem: mem, owner: true, cons: true, stop: make(chan struct{}),
		parkSQ: make(chan struct{}, 1), parkCQ: make(chan struct{}, 1), local: newLocalRings(o.Entries)}
	r.format()
	atomic.StoreUint32(r.u32(offConsumerState), consumerAttached)
	atomic.StoreUint32(r.u32(offConsumerPID), uint32(os.Getpid()))
	r.initProducer()
	r.initConsumer()
	r.startReaper()
	return r, nil
}

// format writes a fresh header and slot sequence numbers; the magic goes
// in last, so an Open racing with Create never takes a half-written
// header for a ring.
func (r *Ring) format() {
	r.g.writeHeader(r.mem)
	atomic.StoreUint32(r.u32(offMagic), 0)
	for i := uint64(0); i < uint64(r.g.entries); i++ {
		atomic.StoreUint64(r.seq(r.g.sq, i), i)
		atomic.StoreUint64(r.seq(r.g.cq, i), i)
	}
	atomic.StoreUint32(r.u32(offOwnerPID), uint32(os.Getpid()))
	atomic.StoreUint32(r.u32(offMagic), magic)
}

// Entries is the number of descriptors per ring and of commands in flight.
func (r *Ring) Entries() int { return int(r.g.entries) }

// ChunkSize is the largest payload and the largest result in bytes.
func (r *Ring) ChunkSize() int { return int(r.g.chunk) }

// Path is the shared-memory file, or "" for an in-process ring.
func (r *Ring) Path() string { return r.path }

func (r *Ring) u32(off uint64) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[off])) }
func (r *Ring) u64(off uint64) *uint64 { return (*uint64)(unsafe.Pointer(&r.mem[off])) }

func (r *Ring) mask() uint64 { return uint64(r.g.entries - 1) }

// slot is the 64-byte slot of position pos in the ring at byte offset ring.
func (r *Ring) slot(ring, pos uint64) []byte {
	off := ring + (pos&r.mask())*descSize
	return r.mem[off : off+descSize : off+descSize]
}

func (r *Ring) seq(ring, pos uint64) *uint64 {
	return (*uint64)(unsafe.Pointer(&r.mem[ring+(pos&r.mask())*descSize]))
}

// chunk is the arena chunk at arena-relative offset off.
func (r *Ring) chunk(off uint32) []byte {
	start := r.g.arena + uint64(off)
	return r.mem[start : start+uint64(r.g.chunk) : start+uint64(r.g.chunk)]
}

// claim reserves k consecutive positions of a multi-producer ring (Vyukov's
// bounded queue, claiming a run at once): slot p is free for lap p when its
// sequence word equals p. Tags bound what is in flight, so a ring is full
// only while its consumer is still releasing; claim spins then.
func (r *Ring) claim(ring, tailOff, k uint64) (uint64, error) {
	tail := r.u64(tailOff)
	for spins := 0; ; spins++ {
		pos := atomic.LoadUint64(tail)
		last := pos + k - 1
		s := atomic.LoadUint64(r.seq(ring, last))
		switch {
		case s == last:
			if atomic.CompareAndSwapUint64(tail, pos, pos+k) {
				return pos, nil
			}
		case int64(s-last) < 0:
			// Full until the other side releases; that side may be gone.
			if spins&63 == 63 {
				if r.closed.Load() || r.ownerGone.Load() || atomic.LoadUint32(r.u32(offClosed)) != 0 {
					return 0, ErrClosed
				}
				r.spin(spins >> 6)
			}
		}
	}
}

// publish hands positions [pos, pos+k) to the consumer.
func (r *Ring) publish(ring, pos, k uint64) {
	for i := uint64(0); i < k; i++ {
		atomic.StoreUint64(r.seq(ring, pos+i), pos+i+1)
	}
}

// ready reports whether the single consumer of a ring has a descriptor at
// its head.
func (r *Ring) ready(ring, headOff uint64) bool {
	h := atomic.LoadUint64(r.u64(headOff))
	return atomic.LoadUint64(r.seq(ring, h)) == h+1
}

// sqReady and cqReady report whether a command (a completion) waits at the
// head of the SQ (the CQ), on either transport.
func (r *Ring) sqReady() bool {
	if r.local != nil {
		return r.local.sq.ready()
	}
	return r.ready(r.g.sq, offSQHead)
}

func (r *Ring) cqReady() bool {
	if r.local != nil {
		return r.local.cq.ready()
	}
	return r.ready(r.g.cq, offCQHead)
}

// sqHead is the consumer's position in the SQ: every command below it was
// fetched.
func (r *Ring) sqHead() uint64 {
	if r.local != nil {
		return r.local.sq.head.Load()
	}
	return atomic.LoadUint64(r.u64(offSQHead))
}

// sqTail is the next SQ position producers claim.
func (r *Ring) sqTail() uint64 {
	if r.local != nil {
		return r.local.sq.tail.Load()
	}
	return atomic.LoadUint64(r.u64(offSQTail))
}

// isClosed reports whether this handle was closed.
func (r *Ring) isClosed() bool { return r.closed.Load() }

// take consumes up to max published descriptors from the head of a ring
// (single consumer), calling fn on each slot, then advances the head and
// releases the slots for the next lap.
func (r *Ring) take(ring, headOff uint64, max int, fn func(slot []byte)) int {
	headp := r.u64(headOff)
	head := atomic.LoadUint64(headp)
	n := 0
	for n < max {
		pos := head + uint64(n)
		if atomic.LoadUint64(r.seq(ring, pos)) != pos+1 {
			break
		}
		fn(r.slot(ring, pos))
		n++
	}
	if n == 0 {
		return 0
	}
	atomic.StoreUint64(headp, head+uint64(n))
	for i := uint64(0); i < uint64(n); i++ {
		atomic.StoreUint64(r.seq(ring, head+i), head+i+uint64(r.g.entries))
	}
	return n
}

// Close stops the ring's goroutines. On the owner side, every command
// still in flight completes with StatusClosed and the shared file is
// removed; on the consumer side the consumer detaches, and the owner
// re-offers or fails what it fetched and did not complete. The memory
// itself is released when the Ring is garbage collected, so a goroutine
// still inside a method never touches unmapped memory; Payload slices from
// Fetch must not be used after Close.
func (r *Ring) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	if r.owner {
		atomic.StoreUint32(r.u32(offClosed), 1)
	}
	if r.cons && !r.owner && atomic.LoadUint32(r.u32(offEpoch)) == r.epoch {
		// Only while still ours: an evicted consumer must not detach its
		// successor.
		atomic.CompareAndSwapUint32(r.u32(offConsumerState), consumerAttached, consumerDetached)
	}
	close(r.stop)
	r.wake(offSQBell, true)
	r.wake(offCQBell, true)
	r.wg.Wait()
	var err error
	if r.owner {
		r.failAll(StatusClosed, "ring closed")
		if r.path != "" {
			if rmErr := os.Remove(r.path); rmErr != nil && !os.IsNotExist(rmErr) {
				err = fmt.Errorf("close ring: remove %s: %w", r.path, rmErr)
			}
		}
	}
	return err
}
