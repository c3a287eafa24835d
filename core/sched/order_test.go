package sched

import (
	"strings"
	"testing"
	"time"
)

// TestOrder queues tasks behind a busy phone and checks the order each
// policy runs them in.
func TestOrder(t *testing.T) {
	tasks := func(now time.Time) []Task {
		return []Task{
			{ID: "late", Deadline: now.Add(90 * time.Second), Period: 10 * time.Second},
			{ID: "be-low", Priority: 0},
			{ID: "early", Deadline: now.Add(30 * time.Second), Period: 60 * time.Second},
			{ID: "be-high", Priority: 5},
			{ID: "mid", Deadline: now.Add(60 * time.Second)}, // one-off: rm ranks it by 60s
			{ID: "mid-tie", Deadline: now.Add(60 * time.Second), Priority: 1},
		}
	}
	for _, tc := range []struct {
		policy, want string
	}{
		{PolicyEDF, "early,mid-tie,mid,late,be-high,be-low"},
		{PolicyFIFO, "late,be-low,early,be-high,mid,mid-tie"},
		{PolicyRM, "late,mid-tie,early,mid,be-high,be-low"}, // early and the one-offs all rank 60s
	} {
		t.Run(tc.policy, func(t *testing.T) {
			clk := newTestClock()
			p := newPool(t, backends{"fake": newPhones(nil)}, nil)
			st := &started{}
			s := newSched(t, testConfig(tc.policy), p, clk, st)
			if err := s.Submit(Task{ID: "busy", EstSteps: 1, Deadline: clk.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			s.DispatchNow(t.Context())
			for _, task := range tasks(clk.Now()) {
				task.EstSteps = 1
				if err := s.Submit(task); err != nil {
					t.Fatal(err)
				}
			}
			prev := "busy"
			for range 6 {
				clk.Advance(time.Second)
				st.finish(t, s, prev, 1, time.Second)
				if n := s.DispatchNow(t.Context()); n != 1 {
					t.Fatalf("dispatched %d, want 1", n)
				}
				ids := st.ids()
				prev = ids[len(ids)-1]
			}
			if got := strings.Join(st.ids()[1:], ","); got != tc.want {
				t.Fatalf("order %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSetConfigReorders: switching the policy reorders waiting tasks.
func TestSetConfigReorders(t *testing.T) {
	clk := newTestClock()
	p := newPool(t, backends{"fake": newPhones(nil)}, nil)
	st := &started{}
	s := newSched(t, testConfig(PolicyFIFO), p, clk, st)
	now := clk.Now()
	for i, id := range []string{"busy", "first", "second"} {
		if err := s.Submit(Task{ID: id, EstSteps: 1, Deadline: now.Add(time.Duration(100-i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			s.DispatchNow(t.Context())
		}
	}
	if err := s.SetConfig(testConfig("lifo")); err == nil || !strings.Contains(err.Error(), "lifo") {
		t.Fatalf("bad policy: got %v", err)
	}
	if err := s.SetConfig(testConfig(PolicyEDF)); err != nil {
		t.Fatal(err)
	}
	st.finish(t, s, "busy", 1, time.Second)
	s.DispatchNow(t.Context())
	if got := strings.Join(st.ids(), ","); got != "busy,second" {
		t.Fatalf("dispatched %s, want busy,second (earlier deadline after the switch to edf)", got)
	}
}

// TestDispatchScansPastIneligibleHeads: tasks at the head of the queue
// that the pool cannot serve now (labels, a busy device, a taint, a
// tenant-only phone) do not hold up the tasks behind them.
func TestDispatchScansPastIneligibleHeads(t *testing.T) {
	clk := newTestClock()
	bs := backends{
		"fake":    newPhones(map[string]string{"android": "13"}, map[string]string{"android": "13", "tenant": "vip"}),
		"tainted": newPhones(map[string]string{"android": "14"}),
	}
	p := newPool(t, bs, map[string][]string{"tainted": {"gpu=a100"}})
	st := &started{}
	s := newSched(t, testConfig(PolicyEDF), p, clk, st)
	now := clk.Now()
	// Hold fake/p0 so a task asking for it by id must wait.
	if err := s.Submit(Task{ID: "holder", DeviceID: "fake/p0", EstSteps: 1, Deadline: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.DispatchNow(t.Context())
	for i, task := range []Task{
		{ID: "wants-14", Labels: map[string]string{"android": "14"}},           // only on the tainted backend
		{ID: "wants-p0", DeviceID: "fake/p0"},                                  // busy
		{ID: "wants-15", Labels: map[string]string{"android": "15"}},           // no such phone
		{ID: "any", Labels: map[string]string{"android": "13"}},                // p1 is vip-only: waits
		{ID: "vip", Tenant: "vip", Labels: map[string]string{"android": "13"}}, // gets p1
		{ID: "tolerant", Tolerations: []string{"gpu"}},                         // gets the tainted phone
	} {
		task.EstSteps = 1
		task.Deadline = now.Add(time.Duration(10+i) * time.Minute)
		if err := s.Submit(task); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.DispatchNow(t.Context()); n != 2 {
		t.Fatalf("dispatched %d, want 2", n)
	}
	if got := strings.Join(st.ids(), ","); got != "holder,vip,tolerant" {
		t.Fatalf("dispatched %s, want holder,vip,tolerant", got)
	}
	st.mu.Lock()
	dev := st.leases["tolerant"].Device
	st.mu.Unlock()
	if dev != "tainted/p0" {
		t.Fatalf("tolerant got %s", dev)
	}
	// The holder ends: the earliest task that can use fake/p0 gets it.
	st.finish(t, s, "holder", 1, time.Second)
	s.DispatchNow(t.Context())
	if got := strings.Join(st.ids(), ","); got != "holder,vip,tolerant,wants-p0" {
		t.Fatalf("dispatched %s, want wants-p0 next", got)
	}
	if q := s.Queued(); q != 3 {
		t.Fatalf("queued %d, want 3 (wants-14, wants-15, any)", q)
	}
}
