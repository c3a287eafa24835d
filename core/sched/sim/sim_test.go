package sim

import (
	"context"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

func edfConfig() config.SchedConfig {
	c := config.Default().Sched
	c.StepEstimate = 0
	return c
}

// comparable drops the wall-clock fields, which differ between runs.
func comparable(r *Result) Result {
	c := *r
	c.P50DispatchUs, c.P99DispatchUs = 0, 0
	return c
}

func TestDeterministic(t *testing.T) {
	run := func(seed uint64, policy string) Result {
		c := edfConfig()
		c.Policy = policy
		r, err := Run(context.Background(), Options{Workload: DefaultWorkload(seed, 400, 1.2), Sched: c})
		if err != nil {
			t.Fatal(err)
		}
		return comparable(r)
	}
	for _, policy := range []string{"edf", "fifo", "rm"} {
		a, b := run(7, policy), run(7, policy)
		if a != b {
			t.Fatalf("%s: two runs of seed 7 differ:\n%+v\n%+v", policy, a, b)
		}
		if a.Tasks < 300 || a.Throughput <= 0 || a.GPUUtilization <= 0 {
			t.Fatalf("%s: implausible result %+v", policy, a)
		}
	}
	if a, c := run(7, "edf"), run(8, "edf"); a == c {
		t.Fatal("seeds 7 and 8 gave the same result")
	}
}

// TestWorkloadUtilization: the drawn tasks offer about the asked-for
// load, and every policy sees the same tasks.
func TestWorkloadUtilization(t *testing.T) {
	for _, u := range []float64{0.5, 1.5} {
		w := DefaultWorkload(3, 3000, u)
		tasks, horizon, err := w.generate()
		if err != nil {
			t.Fatal(err)
		}
		var work time.Duration
		periodic := 0
		for _, task := range tasks {
			work += task.work(1)
			if task.class.Period > 0 {
				periodic++
			}
		}
		got := work.Seconds() / (float64(w.Devices) * horizon.Seconds())
		if got < 0.9*u || got > 1.1*u {
			t.Fatalf("utilization %.3f offered %.3f", u, got)
		}
		if periodic == 0 || periodic == len(tasks) {
			t.Fatalf("%d of %d tasks periodic: want both kinds", periodic, len(tasks))
		}
		again, _, _ := w.generate()
		if len(again) != len(tasks) || again[17].arrive != tasks[17].arrive || again[17].devT[0] != tasks[17].devT[0] {
			t.Fatal("the same seed drew different tasks")
		}
	}
	if _, _, err := (&Workload{}).generate(); err == nil {
		t.Fatal("empty workload accepted")
	}
}

// TestMissRateCountsRejections: a workload far past capacity makes EDF
// refuse tasks, and those count in the miss rate.
func TestMissRateCountsRejections(t *testing.T) {
	r, err := Run(context.Background(), Options{Workload: DefaultWorkload(1, 2000, 6), Sched: edfConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if r.RejectedRate <= 0 || r.MissRate < r.RejectedRate || r.FirstRejection == "" {
		t.Fatalf("rejected %.3f miss %.3f first %q", r.RejectedRate, r.MissRate, r.FirstRejection)
	}
}

// TestRealClock drives the real dispatch loop briefly; it checks what
// was measured is complete, not how fast it was.
func TestRealClock(t *testing.T) {
	r, err := RunReal(context.Background(), RealOptions{Rate: 2000, Duration: 100 * time.Millisecond, Devices: 64,
		Hold: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Tasks != 200 || r.Rejected != 0 || r.P99DispatchUs <= 0 || r.P50DispatchUs > r.P99DispatchUs {
		t.Fatalf("result %+v", r)
	}
	if _, err := RunReal(context.Background(), RealOptions{}); err == nil {
		t.Fatal("zero options accepted")
	}
}
