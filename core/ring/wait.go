package ring

import (
	"context"
	"math"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	futexWait    = 0
	futexWake    = 1
	futexPrivate = 128

	// sleepSlice bounds one futex sleep so a sleeper notices Close and a
	// dead peer even without a wake-up.
	sleepSlice = 100 * time.Millisecond
)

func (r *Ring) futex(addr *uint32, op int, val uint32, ts *unix.Timespec) {
	if !r.shared {
		op |= futexPrivate
	}
	// EAGAIN (the word changed), EINTR and ETIMEDOUT all mean "look again".
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val),
		uintptr(unsafe.Pointer(ts)), 0, 0)
}

// wake rings a doorbell (offSQBell or offCQBell): it bumps the 32-bit word
// and wakes its sleepers, but only when one announced itself in the
// waiters word, so a polling peer costs no syscall. force wakes regardless.
func (r *Ring) wake(bellOff uint64, force bool) {
	if !force && atomic.LoadUint32(r.u32(bellOff+4)) == 0 {
		return
	}
	if !r.shared { // in process: the sleeper is a goroutine parked on a channel
		select {
		case r.park(bellOff) <- struct{}{}:
		default: // a token is already there
		}
		return
	}
	bell := r.u32(bellOff)
	atomic.AddUint32(bell, 1)
	r.futex(bell, futexWake, math.MaxInt32, nil)
}

// park is the in-process stand-in for a doorbell's futex.
func (r *Ring) park(bellOff uint64) chan struct{} {
	if bellOff == offSQBell {
		return r.parkSQ
	}
	return r.parkCQ
}

// sleep waits on a doorbell until it rings, ready() holds, ctx ends or
// sleepSlice passes. The waiters count is raised before ready is checked
// and the bell is read before that, so a wake between the check and the
// futex call makes the futex return at once (no lost wake-up). An
// in-process ring parks the goroutine on a channel instead of the futex.
func (r *Ring) sleep(ctx context.Context, bellOff uint64, ready func() bool) {
	waiters := r.u32(bellOff + 4)
	bell := r.u32(bellOff)
	atomic.AddUint32(waiters, 1)
	defer atomic.AddUint32(waiters, math.MaxUint32) // -1
	v := atomic.LoadUint32(bell)
	if ready() || ctx.Err() != nil || r.closed.Load() {
		return
	}
	if !r.shared {
		// A goroutine parks instead of blocking an OS thread in futex; a
		// wake between the ready check and here leaves a token in the
		// channel, so it is not lost.
		select {
		case <-r.park(bellOff):
		case <-ctx.Done():
		case <-r.stop:
		}
		return
	}
	stop := context.AfterFunc(ctx, func() { r.wake(bellOff, true) })
	defer stop()
	ts := unix.NsecToTimespec(int64(sleepSlice))
	r.futex(bell, futexWait, v, &ts)
}

// waitFor waits in the ring's mode until ready() holds, returning ctx's
// error or ErrClosed if those come first. check, if set, is called every
// few spins and after every sleep (heartbeat and eviction checks) and
// stops the wait with its error.
func (r *Ring) waitFor(ctx context.Context, mode WaitMode, bellOff uint64, ready func() bool, check func() error) error {
	var start time.Time
	for i := 0; ; i++ {
		if ready() {
			return nil
		}
		if i&63 == 63 || mode == WaitSleep {
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.closed.Load() {
				return ErrClosed
			}
			if check != nil {
				if err := check(); err != nil {
					return err
				}
			}
		}
		switch mode {
		case WaitPoll:
			r.spin(i)
			continue
		case WaitAdaptive:
			if i < 64 {
				r.spin(i)
				continue
			}
			if start.IsZero() {
				start = time.Now()
			}
			if time.Since(start) < r.opts.SpinFor {
				r.spin(i)
				continue
			}
		}
		r.sleep(ctx, bellOff, ready)
	}
}

// spin is one step of a polling loop. Over shared memory it yields the
// goroutine on every step and the OS thread every 32nd, so that on an
// oversubscribed machine the peer process gets the CPU instead of waiting
// for this thread's time slice to run out. In process, both sides share
// one Go scheduler, and goroutines that all call runtime.Gosched on every
// step fight over its global lock; there most steps return at once (the
// caller re-checks its ring: nanoseconds of busy waiting), every 8th
// yields the goroutine and every 256th the thread.
func (r *Ring) spin(i int) {
	if r.shared {
		if i&31 == 31 {
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
			return
		}
		runtime.Gosched()
		return
	}
	switch {
	case i&255 == 255:
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	case i&7 == 7:
		runtime.Gosched()
	}
}
