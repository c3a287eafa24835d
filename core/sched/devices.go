package sched

import (
	"context"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
)

// Clock is where the scheduler reads time; the simulator supplies a
// virtual one.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the wall clock.
var SystemClock Clock = systemClock{}

// Lease is a device lent to one dispatched task. With PoolDevices it is
// a *pool.Lease.
type Lease interface {
	Release()
}

// Devices is the device side of dispatch: core/pool through PoolDevices,
// or a virtual device set in the simulator and benchmarks.
type Devices interface {
	// TryLease leases a device for req now or fails at once (req.NoWait
	// is set), wrapping pool.ErrBusy, pool.ErrNoDevice or pool.ErrQuota.
	// It must not block or call into the Scheduler.
	TryLease(ctx context.Context, req pool.Request) (Lease, error)
	// Changes is signalled when a device may have become leasable.
	Changes() <-chan struct{}
	// Capacity is the number of devices that serve tasks (free or
	// leased), for the wait estimate.
	Capacity() int
}

// PoolDevices adapts a *pool.Pool; the RunFunc gets *pool.Lease values
// (see PoolRun).
type PoolDevices struct {
	Pool *pool.Pool

	mu   sync.Mutex
	cap  int
	when time.Time
}

// TryLease implements Devices.
func (d *PoolDevices) TryLease(ctx context.Context, req pool.Request) (Lease, error) {
	req.NoWait = true
	l, err := d.Pool.Lease(ctx, req)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Changes implements Devices.
func (d *PoolDevices) Changes() <-chan struct{} { return d.Pool.Changes() }

// Capacity implements Devices: the pool's free and leased devices,
// counted at most once a second.
func (d *PoolDevices) Capacity() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now := time.Now(); now.Sub(d.when) > time.Second {
		n := 0
		for _, s := range d.Pool.Devices() {
			if s.State == pool.StateFree || s.State == pool.StateLeased {
				n++
			}
		}
		d.cap, d.when = n, now
	}
	return d.cap
}

// RunFunc runs one dispatched task on its device, in its own goroutine.
// It must call Scheduler.Report when the task ends and release l.
type RunFunc func(ctx context.Context, d *Dispatched, l Lease)

// PoolRun adapts a runner that wants the *pool.Lease of PoolDevices.
func PoolRun(run func(ctx context.Context, d *Dispatched, l *pool.Lease)) RunFunc {
	return func(ctx context.Context, d *Dispatched, l Lease) { run(ctx, d, l.(*pool.Lease)) }
}

var _ Devices = (*PoolDevices)(nil)
