package sched

import (
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
)

// Policies (sched.policy).
const (
	PolicyEDF  = "edf"
	PolicyFIFO = "fifo"
	PolicyRM   = "rm"
)

// entry is a queued task. Guarded by Scheduler.mu.
type entry struct {
	t        Task
	seq      uint64
	degraded bool
	reason   string
	sig      string  // the pool request's signature: tasks that ask alike
	urgency  float64 // (deadline - now) / estimate at the last recompute
}

func (e *entry) rank() time.Duration {
	switch {
	case e.t.Period > 0:
		return e.t.Period
	case e.t.BestEffort():
		return math.MaxInt64
	}
	return e.t.Deadline.Sub(e.t.Submitted)
}

// signature renders what the pool sees of a task's request.
func signature(t *Task) string {
	var b strings.Builder
	b.WriteString(t.Tenant)
	b.WriteByte(0)
	b.WriteString(t.DeviceID)
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(t.Labels[k])
	}
	b.WriteByte(1)
	for _, s := range slices.Sorted(slices.Values(t.Tolerations)) {
		b.WriteByte(0)
		b.WriteString(s)
	}
	return b.String()
}

// lessFunc orders queued tasks under a policy; urgencyWindow > 0 makes edf
// break ties between deadlines in the same window by urgency.
func lessFunc(policy string, urgencyWindow time.Duration) func(a, b *entry) int {
	byPriority := func(a, b *entry) int {
		if a.t.Priority != b.t.Priority {
			return b.t.Priority - a.t.Priority
		}
		return cmpU64(a.seq, b.seq)
	}
	switch policy {
	case PolicyFIFO:
		return func(a, b *entry) int { return cmpU64(a.seq, b.seq) }
	case PolicyRM:
		return func(a, b *entry) int {
			if ra, rb := a.rank(), b.rank(); ra != rb {
				if ra < rb {
					return -1
				}
				return 1
			}
			return byPriority(a, b)
		}
	}
	return func(a, b *entry) int {
		ab, bb := a.t.BestEffort(), b.t.BestEffort()
		switch {
		case ab && bb:
			return byPriority(a, b)
		case ab:
			return 1
		case bb:
			return -1
		}
		da, db := a.t.Deadline.UnixNano(), b.t.Deadline.UnixNano()
		if urgencyWindow > 0 {
			w := int64(urgencyWindow)
			da, db = da/w, db/w
		}
		if da != db {
			if da < db {
				return -1
			}
			return 1
		}
		if urgencyWindow > 0 && a.urgency != b.urgency {
			if a.urgency < b.urgency {
				return -1
			}
			return 1
		}
		return byPriority(a, b)
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// insertLocked queues e in order.
func (s *Scheduler) insertLocked(e *entry) {
	i := s.positionLocked(e)
	s.q = slices.Insert(s.q, i, e)
	s.queuedBy[e.t.Tenant]++
	s.queued[e.t.ID] = true
}

// positionLocked is where e goes in the queue.
func (s *Scheduler) positionLocked(e *entry) int {
	i, _ := slices.BinarySearchFunc(s.q, e, s.less)
	return i
}

func (s *Scheduler) resortLocked() {
	slices.SortStableFunc(s.q, s.less)
}

// request is the pool request of a queued task.
func request(t *Task) pool.Request {
	return pool.Request{Tenant: t.Tenant, Owner: t.ID, Labels: t.Labels, Tolerations: t.Tolerations,
		DeviceID: t.DeviceID, NoWait: true}
}
