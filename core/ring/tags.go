package ring

import "sync/atomic"

// tagStack is a lock-free stack of free tags (a Treiber stack). The head
// word packs a version counter (high 32 bits) against ABA and the top tag
// + 1 (low 32 bits; 0 is empty).
type tagStack struct {
	head atomic.Uint64
	next []atomic.Uint32 // tag + 1 of the entry below, 0 at the bottom
}

func (s *tagStack) init(n int) {
	s.next = make([]atomic.Uint32, n)
	for i := 0; i < n; i++ {
		s.next[i].Store(uint32(i)) // tag i sits on tag i-1
	}
	s.head.Store(uint64(n))
}

func (s *tagStack) pop() (uint32, bool) {
	for {
		h := s.head.Load()
		top := uint32(h)
		if top == 0 {
			return 0, false
		}
		below := s.next[top-1].Load()
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(below)) {
			return top - 1, true
		}
	}
}

func (s *tagStack) push(tag uint32) {
	for {
		h := s.head.Load()
		s.next[tag].Store(uint32(h))
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(tag+1)) {
			return
		}
	}
}

// popN pops up to len(dst) tags with one CAS and returns how many.
func (s *tagStack) popN(dst []uint32) int {
	for {
		h := s.head.Load()
		top, n := uint32(h), 0
		for top != 0 && n < len(dst) {
			dst[n] = top - 1
			n++
			top = s.next[top-1].Load()
		}
		if n == 0 {
			return 0
		}
		// The version in h makes the CAS fail if anything popped or pushed
		// since the walk, so the walk saw a consistent chain.
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(top)) {
			return n
		}
	}
}

// pushN pushes tags with one CAS.
func (s *tagStack) pushN(tags []uint32) {
	if len(tags) == 0 {
		return
	}
	for i := 0; i < len(tags)-1; i++ {
		s.next[tags[i]].Store(tags[i+1] + 1)
	}
	last := tags[len(tags)-1]
	for {
		h := s.head.Load()
		s.next[last].Store(uint32(h))
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(tags[0]+1)) {
			return
		}
	}
}
