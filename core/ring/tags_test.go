package ring

import (
	"sync"
	"testing"
)

// TestTagStack: concurrent pops and pushes, single and batched, never hand
// the same tag to two holders and never lose one.
func TestTagStack(t *testing.T) {
	const n = 64
	var s tagStack
	s.init(n)
	held := make([]int32, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]uint32, 1+g%5)
			for i := 0; i < 2000; i++ {
				var got []uint32
				if g%2 == 0 {
					if tag, ok := s.pop(); ok {
						got = []uint32{tag}
					}
				} else {
					got = append(got, buf[:s.popN(buf)]...)
				}
				mu.Lock()
				for _, tag := range got {
					if held[tag]++; held[tag] != 1 {
						t.Errorf("tag %d held twice", tag)
					}
				}
				for _, tag := range got {
					held[tag]--
				}
				mu.Unlock()
				if len(got) == 1 && g%4 == 0 {
					s.push(got[0])
				} else {
					s.pushN(got)
				}
			}
		}()
	}
	wg.Wait()
	all := make([]uint32, n+1)
	if got := s.popN(all); got != n {
		t.Fatalf("%d tags left, want %d", got, n)
	}
	seen := map[uint32]bool{}
	for _, tag := range all[:n] {
		if tag >= n || seen[tag] {
			t.Fatalf("bad or duplicate tag %d", tag)
		}
		seen[tag] = true
	}
}
