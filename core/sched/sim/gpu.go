package sim

import (
	"container/heap"
	"time"
)

// gpu is the modeled GPU: slices serving inference requests earliest
// deadline first (best-effort last, then arrival order).
type gpu struct {
	r     *runner
	free  int
	slots int
	wait  reqHeap
	seq   uint64
	busy  time.Duration
}

type req struct {
	t        *state
	deadline time.Duration // 0: best-effort
	seq      uint64
}

type reqHeap []req

func (h reqHeap) Len() int { return len(h) }
func (h reqHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if (a.deadline == 0) != (b.deadline == 0) {
		return b.deadline == 0
	}
	if a.deadline != b.deadline {
		return a.deadline < b.deadline
	}
	return a.seq < b.seq
}
func (h reqHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *reqHeap) Push(x any)   { *h = append(*h, x.(req)) }
func (h *reqHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newGPU(slices int, r *runner) *gpu { return &gpu{r: r, free: slices, slots: slices} }

// submit queues t's inference for this step.
func (g *gpu) submit(t *state) {
	g.seq++
	dl := time.Duration(0)
	if t.deadline > 0 {
		dl = t.arrive + t.deadline
	}
	heap.Push(&g.wait, req{t: t, deadline: dl, seq: g.seq})
	g.serve()
}

// done frees t's slice.
func (g *gpu) done(*state) {
	g.free++
	g.serve()
}

func (g *gpu) serve() {
	for g.free > 0 && g.wait.Len() > 0 {
		q := heap.Pop(&g.wait).(req)
		g.free--
		g.busy += q.t.infer
		g.r.at(g.r.now()+q.t.infer, evInferDone, q.t)
	}
}
