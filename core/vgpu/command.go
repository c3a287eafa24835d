package vgpu

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// errCallerGone is returned to an adapter whose caller stopped waiting
// (its context ended): the chunks have nowhere to go.
var errCallerGone = errors.New("vgpu: the caller stopped waiting for this reply")

// command is one inference request on its way through a slice: queued,
// then in the ring, then running on the adapter.
type command struct {
	id       uint64
	seq      uint64
	ctx      context.Context
	model    string
	req      *cpv1.InferRequest
	deadline int64 // deadlineKey of the request's deadline
	slice    *slice
	index    int // in the slice's queue; -1 when not queued

	// Set when admitted, under Gateway.mu, before admit is signalled.
	lent     bool
	estimate time.Duration
	modelID  uint32
	shm      *shmLane      // the model's shared-memory ring, if it has one
	admitErr error         // set instead when the command is failed unadmitted
	admit    chan struct{} // signalled once: admitted, or failed
	// accounted is set by whoever gives the GPU slot back.
	accounted atomic.Bool

	// Set by the consumer: the fetched descriptor, then the outcome.
	rc     ring.Command
	ran    bool // the adapter returned (guarded by mu)
	runErr error

	mu       sync.Mutex
	emit     func(*cpv1.InferChunk) error
	returned bool // the caller returned; emit is not called again
}

// deliver hands a chunk to the caller unless the caller has returned.
func (c *command) deliver(ch *cpv1.InferChunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.returned {
		return errCallerGone
	}
	return c.emit(ch)
}

// abandon marks the caller as gone: chunks delivered after it are dropped.
func (c *command) abandon() {
	c.mu.Lock()
	c.returned = true
	c.mu.Unlock()
}

// fail ends a command that was never admitted (Gateway.mu held).
func (c *command) fail(err error) {
	c.admitErr = err
	c.admit <- struct{}{}
}
