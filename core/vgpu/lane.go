package vgpu

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
)

// lane is a slice's queue pair (core/ring, in process): the dispatcher
// submits admitted commands to the submission ring, the slice's consumer
// fetches them in batches and completes them after the adapter answered,
// and the reaper takes completions off the completion ring and finishes
// the commands. The descriptors carry the command's id, slice, model and
// deadline; the request itself stays in Go memory (in process there is
// nothing to copy).
type lane struct {
	r *ring.Ring

	mu   sync.Mutex
	cmds map[uint64]*command // submitted, not yet reaped
}

// laneEntries is the ring size for a slice: the configured entries, at
// least enough for every command the gateway may have in flight.
func laneEntries(configured, maxInFlight int) int {
	n := 2
	for n < max(configured, maxInFlight) {
		n <<= 1
	}
	return n
}

func newLane(entries int, wait ring.WaitMode) (*lane, error) {
	r, err := ring.New(ring.Options{Entries: entries, ArenaBytes: entries * 128, Wait: wait, FailFast: true})
	if err != nil {
		return nil, err
	}
	return &lane{r: r, cmds: map[uint64]*command{}}, nil
}

// submit puts an admitted command on the submission ring. The ring has a
// tag for every command the gateway may have in flight, so it never
// waits.
func (l *lane) submit(c *command, slice uint32, model uint32) error {
	l.mu.Lock()
	l.cmds[c.id] = c
	l.mu.Unlock()
	dl := int64(0)
	if c.deadline != deadlineKey(0) {
		dl = c.deadline * int64(time.Millisecond)
	}
	err := l.r.Submit(context.Background(), ring.Command{ID: c.id, Slice: slice, Model: model, Deadline: dl, Flags: ring.FlagBatchable})
	if err != nil {
		l.take(c.id)
		return fmt.Errorf("submit to the ring of slice %s: %w", c.slice.cfg.Name, err)
	}
	return nil
}

// take removes and returns the command with id.
func (l *lane) take(id uint64) *command {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.cmds[id]
	delete(l.cmds, id)
	return c
}

func (l *lane) lookup(id uint64) *command {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cmds[id]
}

// fetch waits for admitted commands and returns up to len(buf) of them
// (appended to out). It fails with ring.ErrClosed once the ring closed.
func (l *lane) fetch(ctx context.Context, buf []ring.Command, out []*command) ([]*command, []ring.Command, error) {
	n, err := l.r.Fetch(ctx, buf)
	if err != nil {
		return out, nil, err
	}
	for _, rc := range buf[:n] {
		out = append(out, l.lookup(rc.ID))
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

// reap hands completions to finish until the ring closes and every
// completion is taken.
func (l *lane) reap(finish func(c *command, st ring.Completion)) {
	buf := make([]ring.Completion, 64)
	for {
		n, err := l.r.Reap(context.Background(), buf)
		for _, comp := range buf[:n] {
			if c := l.take(comp.ID); c != nil {
				finish(c, comp)
			}
		}
		if err != nil {
			return
		}
	}
}

func (l *lane) close() error { return l.r.Close() }
