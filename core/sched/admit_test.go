package sched

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

func TestAdmission(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil) // one phone
	st := &started{}
	cfg := testConfig(PolicyEDF)
	cfg.Degrade = false
	s := newSched(t, cfg, p, clk, st)
	now := clk.Now()

	// 5 steps × 1s cannot end within 3s.
	err := s.Submit(Task{ID: "tight", EstSteps: 5, Deadline: now.Add(3 * time.Second)})
	var rej *RejectError
	if !errors.As(err, &rej) || !errors.Is(err, ErrDeadline) {
		t.Fatalf("tight deadline: got %v, want a RejectError", err)
	}
	if rej.Run != 5*time.Second || rej.Wait != 0 || !rej.Estimate.Equal(now.Add(5*time.Second)) {
		t.Fatalf("estimate: run %s wait %s end %s", rej.Run, rej.Wait, rej.Estimate.Sub(now))
	}
	if !strings.Contains(rej.Reason, "after its deadline") || !strings.Contains(err.Error(), "tight") {
		t.Fatalf("reason %q / error %q", rej.Reason, err)
	}

	// Feasible: admitted and dispatched at once on the free phone.
	if err := s.Submit(Task{ID: "a", EstSteps: 5, Deadline: now.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	s.DispatchNow(t.Context())
	if got := st.ids(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("dispatched %v, want [a]", got)
	}

	// The phone is busy for 5s more: 5s wait + 3s run misses 7s.
	err = s.Submit(Task{ID: "b", EstSteps: 3, Deadline: now.Add(7 * time.Second)})
	if !errors.As(err, &rej) {
		t.Fatalf("behind a running task: got %v, want a RejectError", err)
	}
	if rej.Wait != 5*time.Second || rej.Run != 3*time.Second {
		t.Fatalf("wait %s run %s, want 5s and 3s", rej.Wait, rej.Run)
	}
	// ...but 10s is enough.
	if err := s.Submit(Task{ID: "c", EstSteps: 3, Deadline: now.Add(10 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	// An earlier deadline that would push c past its own is refused.
	err = s.Submit(Task{ID: "d", EstSteps: 2, Deadline: now.Add(9 * time.Second)})
	if !errors.As(err, &rej) || !strings.Contains(rej.Reason, "queued task c") {
		t.Fatalf("displacing c: got %v", err)
	}
	// Best-effort tasks always wait, however long the queue.
	for _, id := range []string{"be1", "be2", "be3"} {
		if err := s.Submit(Task{ID: id, EstSteps: 100}); err != nil {
			t.Fatalf("best-effort %s: %v", id, err)
		}
	}
	if err := s.Submit(Task{ID: "c"}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: got %v", err)
	}
	st1 := s.Stats()
	if st1.Rejected != 3 || st1.Queued != 4 || st1.Running != 1 {
		t.Fatalf("stats %+v", st1)
	}

	// With admission off, the tight task waits too.
	cfg.Admission = false
	if err := s.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(Task{ID: "tight", EstSteps: 5, Deadline: now.Add(3 * time.Second)}); err != nil {
		t.Fatalf("admission off: %v", err)
	}
}

func TestAdmissionNoDevices(t *testing.T) {
	p := newPool(t, backends{"fake": newPhones()}, nil)
	clk := newTestClock()
	s := newSched(t, testConfig(PolicyEDF), p, clk, &started{})
	err := s.Submit(Task{ID: "x", Deadline: clk.Now().Add(time.Hour)})
	var rej *RejectError
	if !errors.As(err, &rej) || !strings.Contains(rej.Reason, "no device") {
		t.Fatalf("got %v, want a rejection naming no device", err)
	}
	if err := s.Submit(Task{ID: "be"}); err != nil {
		t.Fatalf("best-effort with no devices: %v", err)
	}
}

func TestQuotas(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil, nil, nil)}, nil)
	st := &started{}
	cfg := testConfig(PolicyEDF)
	cfg.MaxQueued = 3
	cfg.Tenants = map[string]config.SchedTenant{"a": {MaxQueued: 2, MaxRunning: 1}}
	s := newSched(t, cfg, p, clk, st)
	dl := clk.Now().Add(time.Hour)

	for _, id := range []string{"a1", "a2"} {
		if err := s.Submit(Task{ID: id, Tenant: "a", Deadline: dl}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Submit(Task{ID: "a3", Tenant: "a", Deadline: dl}); !errors.Is(err, ErrTenantQuota) {
		t.Fatalf("tenant a's third: got %v, want ErrTenantQuota", err)
	}
	if err := s.Submit(Task{ID: "b1", Tenant: "b", Deadline: dl.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(Task{ID: "b2", Tenant: "b"}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fourth queued: got %v, want ErrQueueFull", err)
	}
	// Three phones, but tenant a may run one task: a2 is passed over and
	// b1 behind it starts.
	s.DispatchNow(t.Context())
	if got := strings.Join(st.ids(), ","); got != "a1,b1" {
		t.Fatalf("dispatched %s, want a1,b1", got)
	}
	st.finish(t, s, "a1", 1, time.Second)
	s.DispatchNow(t.Context())
	if got := strings.Join(st.ids(), ","); got != "a1,b1,a2" {
		t.Fatalf("dispatched %s, want a1,b1,a2", got)
	}
	if got := s.Stats().Refused; got != 2 {
		t.Fatalf("refused %d, want 2", got)
	}
}
