package pluginhost

import (
	"context"
	"sync/atomic"
	"time"
)

// drainBit marks a version that accepts no new calls.
const drainBit = int64(1) << 62

// version is one loaded file serving under a name. refs counts calls in
// flight; once drainBit is set no call can acquire it, and done closes when
// the last call in flight returns.
type version struct {
	inst     Instance
	file     string
	sha256   string
	loadedAt time.Time

	refs atomic.Int64
	done chan struct{}
}

func newVersion(inst Instance, file, sum string, at time.Time) *version {
	return &version{inst: inst, file: file, sha256: sum, loadedAt: at, done: make(chan struct{})}
}

// acquire takes a reference unless the version is draining.
func (v *version) acquire() bool {
	for {
		n := v.refs.Load()
		if n&drainBit != 0 {
			return false
		}
		if v.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (v *version) release() {
	if v.refs.Add(-1) == drainBit {
		close(v.done)
	}
}

// drain stops new calls, waits for the calls in flight (bounded by ctx) and
// closes the instance. It reports whether every call finished before ctx
// ended.
func (v *version) drain(ctx context.Context) bool {
	old := v.refs.Or(drainBit)
	if old&drainBit != 0 {
		<-v.done // another drain owns the close; wait for it
		return true
	}
	if old == 0 {
		close(v.done)
	}
	clean := true
	select {
	case <-v.done:
	case <-ctx.Done():
		clean = false
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = v.inst.Close(closeCtx)
	return clean
}

// inFlight is the number of calls holding the version.
func (v *version) inFlight() int64 { return v.refs.Load() &^ drainBit }
