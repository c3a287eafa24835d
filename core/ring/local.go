package ring

import (
	"runtime"
	"sync/atomic"
)

// localQueue is the submission or completion ring of an in-process ring
// (New): a bounded many-producer, one-consumer queue of positions whose
// entries live in Go memory, beside it, as Go values. Nobody outside this
// process reads it, so it skips what the shared layout needs (descriptor
// bytes, per-slot sequence words, validation of what the other side wrote)
// and costs one atomic per batch on each side, not several per command:
//
//   - a producer claims a run of k positions with one CAS on tail, writes
//     their entries, records k at the run's first position and publishes
//     the run with one store of that position's sequence word (pos + 1);
//   - the consumer reads runs from head and frees everything it read with
//     one store of head.
//
// A sequence word is written only at a run's first position, so a word
// inside a run still holds an older lap's value, which never equals
// pos + 1. The owner never has more commands in flight than the ring has
// entries (tags), so the queue cannot overflow; claim still checks head
// and waits, which costs one read of the consumer's line per batch.
type localQueue struct {
	tail atomic.Uint64 // producers
	_    [56]byte
	head atomic.Uint64 // consumer
	_    [56]byte
	size uint64
	mask uint64
	seq  []atomic.Uint64 // seq[p&mask] == p+1: a run starting at p is published
	runs []uint64        // runs[p&mask]: the length of the run starting at p
}

func (q *localQueue) init(n int) {
	q.size, q.mask = uint64(n), uint64(n-1)
	q.seq = make([]atomic.Uint64, n)
	q.runs = make([]uint64, n)
}

// claim reserves k consecutive positions (k ≤ size). closed is polled while
// the queue is full, which only a bug could make last.
func (q *localQueue) claim(k uint64, closed func() bool) (uint64, error) {
	for spins := 0; ; spins++ {
		pos := q.tail.Load()
		if pos+k > q.head.Load()+q.size {
			if spins&63 == 63 {
				if closed() {
					return 0, ErrClosed
				}
				runtime.Gosched()
			}
			continue
		}
		if q.tail.CompareAndSwap(pos, pos+k) {
			return pos, nil
		}
	}
}

// publish hands the run [pos, pos+k), whose entries are written, to the
// consumer.
func (q *localQueue) publish(pos, k uint64) {
	q.runs[pos&q.mask] = k
	q.seq[pos&q.mask].Store(pos + 1)
}

// ready reports whether a published run waits at head (any goroutine).
func (q *localQueue) ready() bool {
	h := q.head.Load()
	return q.seq[h&q.mask].Load() == h+1
}

// take returns the first position and the count (≤ max) of the published
// entries at head; the consumer reads their entries and then calls done.
// When max ends inside a run, the rest of the run is published again as a
// run of its own, so the next take finds it.
func (q *localQueue) take(max uint64) (uint64, uint64) {
	h := q.head.Load()
	n := uint64(0)
	for n < max {
		p := h + n
		if q.seq[p&q.mask].Load() != p+1 {
			break
		}
		k := q.runs[p&q.mask]
		if n+k > max {
			rest := p + (max - n)
			q.runs[rest&q.mask] = k - (max - n)
			q.seq[rest&q.mask].Store(rest + 1)
			k = max - n
		}
		n += k
	}
	return h, n
}

// done frees the n positions from h that take returned.
func (q *localQueue) done(h, n uint64) {
	if n > 0 {
		q.head.Store(h + n)
	}
}

// depth is the number of positions claimed and not yet freed (a snapshot).
func (q *localQueue) depth() uint64 { return q.tail.Load() - q.head.Load() }

// localComp is an entry of an in-process completion queue: the result
// bytes are in the tag's result chunk, as on a shared ring.
type localComp struct {
	id     uint64
	tag    uint32
	status Status
	length uint32
}

// localRings is the in-process transport: the two queues and their entries.
type localRings struct {
	sq, cq localQueue
	sqTags []uint32 // the tag of the command at each SQ position
	cqEnts []localComp
}

func newLocalRings(n int) *localRings {
	l := &localRings{sqTags: make([]uint32, n), cqEnts: make([]localComp, n)}
	l.sq.init(n)
	l.cq.init(n)
	return l
}
