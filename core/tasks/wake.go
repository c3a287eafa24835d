package tasks

import (
	"context"
	"sync"
)

// wakers wake a task's subscribers when it records an event or changes
// state. A subscriber then reads the store: the store is the one source of
// events, so a subscriber never misses or reorders one.
type wakers struct {
	mu sync.Mutex
	m  map[string]*waker
}

type waker struct {
	ch   chan struct{}
	refs int
}

func (w *wakers) notify(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if k := w.m[id]; k != nil {
		close(k.ch)
		k.ch = make(chan struct{})
	}
}

// Subscription wakes its holder when its task changes.
type Subscription struct {
	w    *wakers
	id   string
	k    *waker
	once sync.Once
}

// Subscribe watches task id. Take C before reading the store, then wait on
// it: a change after the read closes the channel taken before it.
func (s *Service) Subscribe(id string) *Subscription {
	w := &s.wake
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.m[id]
	if k == nil {
		k = &waker{ch: make(chan struct{})}
		w.m[id] = k
	}
	k.refs++
	return &Subscription{w: w, id: id, k: k}
}

// C is closed at the task's next change.
func (sub *Subscription) C() <-chan struct{} {
	sub.w.mu.Lock()
	defer sub.w.mu.Unlock()
	return sub.k.ch
}

// Wait waits for the next change after C was taken, or ctx.
func Wait(ctx context.Context, c <-chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the subscription.
func (sub *Subscription) Close() {
	sub.once.Do(func() {
		w := sub.w
		w.mu.Lock()
		defer w.mu.Unlock()
		if sub.k.refs--; sub.k.refs == 0 {
			delete(w.m, sub.id)
		}
	})
}
