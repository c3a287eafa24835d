package ring

import (
	"math/bits"
	"sync/atomic"
)

// tagSet is a lock-free set of tags (0..n-1) as a bitmap, one bit per tag
// in 64-bit words: the owner's free tags, and a consumer's fetched ones.
// Taking or adding a batch costs one atomic per word it touches, not one
// per tag, and the tags of a batch are neighbours (their arena chunks and
// in-flight records share cache lines).
type tagSet struct {
	words []atomic.Uint64
}

// init makes a set of n tags, all present when full is true.
func (s *tagSet) init(n int, full bool) {
	s.words = make([]atomic.Uint64, (n+63)/64)
	if !full {
		return
	}
	for w := range s.words {
		bitsLeft := n - 64*w
		if bitsLeft >= 64 {
			s.words[w].Store(^uint64(0))
		} else {
			s.words[w].Store(1<<bitsLeft - 1)
		}
	}
}

// has reports whether tag is in the set.
func (s *tagSet) has(tag uint32) bool {
	return s.words[tag/64].Load()&(1<<(tag%64)) != 0
}

// pop takes one tag out of the set.
func (s *tagSet) pop() (uint32, bool) {
	var t [1]uint32
	return t[0], s.popN(t[:]) == 1
}

// popN takes up to len(dst) tags out of the set, lowest first, with one
// CAS per word it takes from, and returns how many.
func (s *tagSet) popN(dst []uint32) int {
	n := 0
	for w := 0; w < len(s.words) && n < len(dst); w++ {
		word := &s.words[w]
		for {
			v := word.Load()
			if v == 0 {
				break
			}
			take := v
			if want := len(dst) - n; bits.OnesCount64(v) > want {
				take = 0
				for rest := v; want > 0; want-- {
					low := rest & -rest
					take |= low
					rest &^= low
				}
			}
			if !word.CompareAndSwap(v, v&^take) {
				continue
			}
			for take != 0 {
				dst[n] = uint32(64*w + bits.TrailingZeros64(take))
				n++
				take &= take - 1
			}
			break
		}
	}
	return n
}

// push puts one tag into the set.
func (s *tagSet) push(tag uint32) {
	s.words[tag/64].Or(1 << (tag % 64))
}

// pushN puts tags into the set with one atomic OR per run of tags that
// share a word (a batch's tags usually do).
func (s *tagSet) pushN(tags []uint32) {
	if len(tags) == 0 {
		return
	}
	w, mask := tags[0]/64, uint64(0)
	for _, t := range tags {
		if t/64 != w {
			s.words[w].Or(mask)
			w, mask = t/64, 0
		}
		mask |= 1 << (t % 64)
	}
	s.words[w].Or(mask)
}

// takeAll removes every tag of tags from the set, all or none: it reports
// false, changing nothing, when one is missing or named twice.
func (s *tagSet) takeAll(tags []uint32) bool {
	done := 0 // tags[:done] are taken
	for done < len(tags) {
		w, mask, end := tags[done]/64, uint64(0), done
		for ; end < len(tags) && tags[end]/64 == w; end++ {
			bit := uint64(1) << (tags[end] % 64)
			if mask&bit != 0 {
				s.pushN(tags[:done])
				return false
			}
			mask |= bit
		}
		for {
			v := s.words[w].Load()
			if v&mask != mask {
				s.pushN(tags[:done])
				return false
			}
			if s.words[w].CompareAndSwap(v, v&^mask) {
				break
			}
		}
		done = end
	}
	return true
}

// count is the number of tags in the set (a snapshot).
func (s *tagSet) count() int {
	n := 0
	for w := range s.words {
		n += bits.OnesCount64(s.words[w].Load())
	}
	return n
}

// pushCmds puts the tags of cmds into the set (Fetch marking what its
// consumer now holds).
func (s *tagSet) pushCmds(cmds []Command) {
	if len(cmds) == 0 {
		return
	}
	w, mask := cmds[0].Tag/64, uint64(0)
	for i := range cmds {
		t := cmds[i].Tag
		if t/64 != w {
			s.words[w].Or(mask)
			w, mask = t/64, 0
		}
		mask |= 1 << (t % 64)
	}
	s.words[w].Or(mask)
}
