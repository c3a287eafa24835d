package ring

import (
	"fmt"
	"sync/atomic"
	"time"
)

// startMonitor watches the consumer of a shared ring: a consumer whose pid
// is gone (checked only when it shares the owner's pid namespace), whose
// heartbeat stood still for HeartbeatTimeout, or that detached is lost,
// and its unfinished commands are recovered.
func (r *Ring) startMonitor() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.opts.HeartbeatInterval)
		defer t.Stop()
		ownNS := pidNamespace()
		var (
			epoch    uint32
			beat     uint64
			beatSeen time.Time
		)
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			state := r.u32(offConsumerState)
			st := atomic.LoadUint32(state)
			if st != consumerAttached {
				// A consumer's heartbeat is timed from when it is first
				// seen attached. It claims the state before it publishes
				// its pid, epoch and first beat, so the words seen then
				// may still be a previous consumer's (or a new ring's
				// zeros): measured against an old sighting, a consumer
				// caught mid-attach would be declared lost at once.
				beatSeen = time.Time{}
			}
			switch st {
			case consumerDetached:
				if atomic.CompareAndSwapUint32(state, consumerDetached, consumerRecovering) {
					r.recoverLost(fmt.Sprintf("consumer pid %d detached", atomic.LoadUint32(r.u32(offConsumerPID))))
				}
			case consumerAttached:
				now := time.Now()
				pid := atomic.LoadUint32(r.u32(offConsumerPID))
				e, b := atomic.LoadUint32(r.u32(offEpoch)), atomic.LoadUint64(r.u64(offHeartbeat))
				if e != epoch || b != beat || beatSeen.IsZero() {
					epoch, beat, beatSeen = e, b, now
				}
				ns := atomic.LoadUint64(r.u64(offConsumerPidNS))
				samePidNS := ns != 0 && ns == ownNS
				var why string
				switch {
				case pid != 0 && samePidNS && !pidAlive(pid):
					why = fmt.Sprintf("consumer pid %d exited", pid)
				case now.Sub(beatSeen) > r.opts.HeartbeatTimeout:
					why = fmt.Sprintf("consumer pid %d: no heartbeat for %s", pid, now.Sub(beatSeen).Round(time.Millisecond))
				default:
					continue
				}
				if atomic.CompareAndSwapUint32(state, consumerAttached, consumerRecovering) {
					r.recoverLost(why)
				}
			}
		}
	}()
}

// recoverLost runs while the consumer state is "recovering", so no
// consumer touches the rings. It drains every completion the lost consumer
// published, frees the slots it claimed and never published (holes in the
// CQ) and the SQ slots it read and never released, then re-offers
// (Options.Requeue) or fails with StatusConsumerLost every command it had
// fetched — those whose SQ position is below the consumer's head — and
// finally lets a new consumer attach.
func (r *Ring) recoverLost(why string) {
	r.reapMu.Lock()
	n := uint64(r.g.entries)

	cqHead := r.u64(offCQHead)
	tail := atomic.LoadUint64(r.u64(offCQTail))
	for pos := atomic.LoadUint64(cqHead); pos != tail; pos++ {
		s := r.seq(r.g.cq, pos)
		if atomic.LoadUint64(s) == pos+1 {
			r.route(r.slot(r.g.cq, pos))
		}
		atomic.StoreUint64(s, pos+n)
		atomic.StoreUint64(cqHead, pos+1)
	}

	sqHead := atomic.LoadUint64(r.u64(offSQHead))
	for pos := sqHead - min(sqHead, n); pos < sqHead; pos++ {
		s := r.seq(r.g.sq, pos)
		if atomic.LoadUint64(s) == pos+1 {
			atomic.StoreUint64(s, pos+n)
		}
	}

	var lost, requeued []uint32
	for t := range r.inflight {
		e := &r.inflight[t]
		if p := e.pos.Load(); p != 0 && p-1 < sqHead {
			lost = append(lost, uint32(t))
		}
	}
	for _, t := range lost {
		e := &r.inflight[t]
		if r.opts.Requeue && !r.closed.Load() {
			e.d.flags |= uint32(FlagRequeued)
			if err := r.enqueue([]uint32{t}); err == nil {
				requeued = append(requeued, t)
				continue
			}
		}
		r.deliver(t, Completion{ID: e.d.id, Tag: t, Status: StatusConsumerLost, Result: []byte(why)})
	}
	r.notifyPending()
	r.reapMu.Unlock()

	log := r.opts.Logger.Warn
	if len(lost) == 0 {
		log = r.opts.Logger.Info // a clean detach
	}
	log("ring: consumer gone", "path", r.path, "why", why,
		"unfinished", len(lost), "requeued", len(requeued), "failed", len(lost)-len(requeued))
	atomic.StoreUint32(r.u32(offConsumerPID), 0)
	atomic.StoreUint32(r.u32(offConsumerState), consumerNone)
	if f := r.opts.OnConsumerLost; f != nil && !r.closed.Load() {
		f(why, len(lost))
	}
}
