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
