package vgpu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
)

// lane is a slice's queue pair (core/ring, in process): the caller of an
// admitted command submits it to the submission ring and waits for its
// completion (ring.Call); the slice's consumer fetches commands in
// batches, runs them, and completes them. The descriptors carry the
// command's id, slice, model and deadline; the request itself stays in Go
// memory (in process there is nothing to copy).
type lane struct {
	r *ring.Ring

	mu   sync.Mutex
	cmds map[uint64]*command // submitted, not yet reaped
}

// laneEntries is the ring size for a slice: the configured entries, at
// least enough for every command the gateway may have in flight.
func laneEntries(configured, maxInFlight int) int {
	n := 2
	// A slot is given back just before its command's completion is
	// posted, so a command admitted into it may briefly need a second tag.
	for n < max(configured, 2*maxInFlight) {
		n <<= 1
	}
	return n
}

func newLane(entries int, wait ring.WaitMode) (*lane, error) {
	r, err := ring.New(ring.Options{Entries: entries, ArenaBytes: entries * 128, Wait: wait})
	if err != nil {
		return nil, err
	}
	return &lane{r: r, cmds: map[uint64]*command{}}, nil
}

// call puts an admitted command on the submission ring and waits for its
// completion (the ring has a tag for every command the gateway may have in
// flight, and more). It returns early with ctx's error (or the ring's when
// it closed); unrun reports that the consumer never took the command and
// never will, so the caller gives its slot back. Otherwise the consumer
// does.
func (l *lane) call(ctx context.Context, c *command) (comp ring.Completion, unrun bool, err error) {
	l.mu.Lock()
	l.cmds[c.id] = c
	l.mu.Unlock()
	dl := int64(0)
	if c.deadline != deadlineKey(0) {
		dl = c.deadline * int64(time.Millisecond)
	}
	comp, err = l.r.Call(ctx, ring.Command{ID: c.id, Slice: c.slice.id, Model: c.modelID, Deadline: dl, Flags: ring.FlagBatchable})
	if err != nil && comp.Status == ring.StatusOK {
		// Not completed: if the consumer has not fetched it yet, it never
		// runs (a late fetch finds no request and fails it).
		return comp, l.take(c.id) != nil, err
	}
	return comp, false, nil
}

// take removes and returns the command with id.
func (l *lane) take(id uint64) *command {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cmds[id]
	delete(l.cmds, id)
	return c
}

// fetch waits for admitted commands and returns up to len(buf) of them
// (appended to out). It fails with ring.ErrClosed once the ring closed.
func (l *lane) fetch(ctx context.Context, buf []ring.Command, out []*command) ([]*command, []ring.Command, error) {
	n, err := l.r.Fetch(ctx, buf)
	if err != nil {
		return out, nil, err
	}
	for _, rc := range buf[:n] {
		out = append(out, l.take(rc.ID))
	}
	return out, buf[:n], nil
}

// done completes a fetched command on the completion ring; err is the
// adapter's error, carried as the reason.
func (l *lane) done(rc ring.Command, err error) error {
	st, reason := ring.StatusOK, []byte(nil)
	if err != nil {
		st = ring.StatusFailed
		reason = []byte(err.Error())
		if len(reason) > l.r.ChunkSize() {
			reason = reason[:l.r.ChunkSize()]
		}
	}
	if cerr := l.r.Complete(rc.Reply(st, reason)); cerr != nil && !errors.Is(cerr, ring.ErrClosed) {
		return fmt.Errorf("complete ring command %d: %w", rc.ID, cerr)
	}
	return nil
}

func (l *lane) close() error { return l.r.Close() }
