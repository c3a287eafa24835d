package vgpu

import (
	"container/heap"
	"math"
)

// edfQueue is a slice's queue of commands waiting for admission, earliest
// deadline first; commands without a deadline go after all that have one,
// and ties keep arrival order.
type edfQueue []*command

func (q edfQueue) Len() int { return len(q) }

func (q edfQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if a.deadline != b.deadline {
		return a.deadline < b.deadline
	}
	return a.seq < b.seq
}

func (q edfQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *edfQueue) Push(x any) {
	c := x.(*command)
	c.index = len(*q)
	*q = append(*q, c)
}

func (q *edfQueue) Pop() any {
	old := *q
	n := len(old)
	c := old[n-1]
	old[n-1] = nil
	c.index = -1
	*q = old[:n-1]
	return c
}

func (q *edfQueue) push(c *command) { heap.Push(q, c) }

func (q *edfQueue) pop() *command { return heap.Pop(q).(*command) }

func (q edfQueue) head() *command { return q[0] }

// remove takes c out of the queue; it reports false when c is not queued.
func (q *edfQueue) remove(c *command) bool {
	if c.index < 0 || c.index >= len(*q) || (*q)[c.index] != c {
		return false
	}
	heap.Remove(q, c.index)
	return true
}

// deadlineKey is the ordering key of a deadline in Unix ms (0: none).
func deadlineKey(ms int64) int64 {
	if ms <= 0 {
		return math.MaxInt64
	}
	return ms
}
