package sched

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestRunDispatchesWhenThePoolFrees drives Run on the wall clock over a
// real pool: the second task starts when the first one's phone is
// released (the pool's Changes), not when its end is reported.
func TestRunDispatchesWhenThePoolFrees(t *testing.T) {
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	got := make(chan *Dispatched, 2)
	leases := make(chan Lease, 2)
	s, err := New(Options{Config: testConfig(PolicyEDF), Devices: &PoolDevices{Pool: p}, Logger: quiet(),
		Run: func(_ context.Context, d *Dispatched, l Lease) { got <- d; leases <- l }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for i := range 2 {
		if err := s.Submit(Task{ID: fmt.Sprint("t", i), EstSteps: 1, Deadline: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	first := <-got
	l := <-leases
	if first.Task.ID != "t0" {
		t.Fatalf("first %s", first.Task.ID)
	}
	if err := s.Report("t0", 1, time.Millisecond, Succeeded); err != nil {
		t.Fatal(err)
	}
	checkFor(t, time.Second, time.Millisecond, func() error {
		if st := s.Stats(); st.Completed != 1 {
			return fmt.Errorf("stats %+v", st)
		}
		return nil
	})
	select {
	case d := <-got:
		t.Fatalf("%s started on a phone that is still leased", d.Task.ID)
	case <-time.After(20 * time.Millisecond):
	}
	l.Release()
	select {
	case d := <-got:
		if d.Task.ID != "t1" {
			t.Fatalf("second %s", d.Task.ID)
		}
		(<-leases).Release()
	case <-time.After(10 * time.Second):
		t.Fatal("t1 not dispatched after the phone was released")
	}
}
