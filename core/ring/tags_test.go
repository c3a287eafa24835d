package ring

import (
	"sync"
	"testing"
)

// TestTagSet: concurrent pops and pushes, single and batched, never hand
// the same tag to two holders and never lose one.
func TestTagSet(t *testing.T) {
	for _, n := range []int{2, 64, 100, 256} {
		var s tagSet
		s.init(n, true)
		if got := s.count(); got != n {
			t.Fatalf("n=%d: a fresh set holds %d tags", n, got)
		}
		held := make([]int32, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]uint32, 1+g*11%70)
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
							t.Errorf("n=%d: tag %d held twice", n, tag)
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
			t.Fatalf("n=%d: %d tags left, want %d", n, got, n)
		}
		seen := map[uint32]bool{}
		for _, tag := range all[:n] {
			if tag >= uint32(n) || seen[tag] {
				t.Fatalf("n=%d: bad or duplicate tag %d", n, tag)
			}
			seen[tag] = true
		}
	}
}

// TestTagSetTakeAll: takeAll removes a batch all or nothing; a missing or
// repeated tag leaves the set as it was.
func TestTagSetTakeAll(t *testing.T) {
	tests := []struct {
		name string
		held []uint32
		take []uint32
		ok   bool
	}{
		{"one word", []uint32{1, 2, 3}, []uint32{1, 3}, true},
		{"across words", []uint32{5, 63, 64, 130}, []uint32{5, 64, 130, 63}, true},
		{"missing", []uint32{5, 64}, []uint32{5, 65}, false},
		{"missing in a later word", []uint32{5, 6, 64}, []uint32{5, 6, 129}, false},
		{"twice", []uint32{5, 6}, []uint32{5, 6, 5}, false},
		{"twice across words", []uint32{5, 70}, []uint32{5, 70, 5}, false},
		{"empty", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s tagSet
			s.init(192, false)
			s.pushN(tt.held)
			if got := s.takeAll(tt.take); got != tt.ok {
				t.Fatalf("takeAll(%v) = %v, want %v", tt.take, got, tt.ok)
			}
			want := map[uint32]bool{}
			for _, tag := range tt.held {
				want[tag] = true
			}
			if tt.ok {
				for _, tag := range tt.take {
					delete(want, tag)
				}
			}
			for tag := uint32(0); tag < 192; tag++ {
				if s.has(tag) != want[tag] {
					t.Fatalf("after takeAll(%v): tag %d present = %v, want %v", tt.take, tag, s.has(tag), want[tag])
				}
			}
		})
	}
}
