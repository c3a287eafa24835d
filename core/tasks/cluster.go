package tasks

import (
	"context"
	"time"
)

// Hooks for cluster mode (core/node): the node that accepts a submission
// validates it and names the task, another node runs it under that name.

// TaskID is the id Submit gives a request of tenant ("" is the default
// tenant) with this idempotency key: the same on every node.
func TaskID(tenant, key string) string {
	if tenant == "" {
		tenant = DefaultTenant
	}
	return newID(time.Time{}, tenant, key)
}

// Validate checks req as Submit does and returns the queued task Submit
// would create, storing and admitting nothing.
func (s *Service) Validate(req Request) (Task, error) { return s.newTask(req) }

// WaitFinal waits until task id is in a final state (or ctx ends) and
// returns it.
func (s *Service) WaitFinal(ctx context.Context, id string) (Task, error) {
	sub := s.Subscribe(id)
	defer sub.Close()
	for {
		c := sub.C()
		t, err := s.store.Task(ctx, id)
		if err != nil {
			return Task{}, err
		}
		if t.State.Final() {
			return t, nil
		}
		// Paused tasks and missed wakes are re-read every second.
		select {
		case <-c:
		case <-time.After(time.Second):
		case <-ctx.Done():
			return t, ctx.Err()
		}
	}
}
