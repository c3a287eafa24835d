package sim

import (
	"slices"
	"time"
)

// Result is one run's metrics. Rates are fractions of all submitted
// tasks; lateness is finish - deadline (negative: early) over finished
// deadline tasks; wait is submit → dispatch on the virtual clock;
// dispatch is the wall-clock cost of the dispatch pass up to the task's
// start (the scheduler's own decision latency).
type Result struct {
	Policy      string  `json:"policy"`
	Utilization float64 `json:"utilization"`
	// OfferedUtilization is what the drawn tasks actually offered.
	OfferedUtilization float64 `json:"offered_utilization"`
	Tasks              int     `json:"tasks"`
	MissRate           float64 `json:"miss_rate"`
	RejectedRate       float64 `json:"rejected_rate"`
	// AdmittedMissRate: admitted deadline tasks that finished late, over
	// admitted deadline tasks.
	AdmittedMissRate float64 `json:"admitted_miss_rate"`
	AdmittedMisses   int     `json:"admitted_misses"`
	DegradedRate     float64 `json:"degraded_rate"`
	P50LatenessMs    float64 `json:"p50_lateness_ms"`
	P99LatenessMs    float64 `json:"p99_lateness_ms"`
	P50WaitMs        float64 `json:"p50_wait_ms"`
	P99WaitMs        float64 `json:"p99_wait_ms"`
	P50DispatchUs    float64 `json:"p50_dispatch_us"`
	P99DispatchUs    float64 `json:"p99_dispatch_us"`
	// Throughput is finished tasks per virtual second until the last
	// finished; Goodput counts only those on time, over the horizon.
	Throughput     float64 `json:"throughput"`
	Goodput        float64 `json:"goodput"`
	GPUUtilization float64 `json:"gpu_utilization"`
	// SimSeconds is the virtual time simulated.
	SimSeconds float64 `json:"sim_seconds"`
	// FirstRejection is the first task refused, with the reason.
	FirstRejection string `json:"first_rejection,omitempty"`
}

func (r *runner) result(o Options, states []*state, horizon time.Duration) *Result {
	res := &Result{Policy: o.Sched.Policy, Utilization: r.w.Utilization, Tasks: len(states)}
	if len(states) == 0 {
		return res
	}
	var missed, rejected, admitted, admittedLate, degraded, finished, onTime int
	var offered, end time.Duration
	var late, wait, disp []float64
	for _, t := range states {
		offered += t.work(1)
		if t.rejected {
			rejected++
			if t.deadline > 0 {
				missed++
			}
			continue
		}
		if t.degraded {
			degraded++
		}
		if !t.done { // cannot happen: the run drains every event
			missed++
			continue
		}
		finished++
		end = max(end, t.finished)
		wait = append(wait, float64(t.dispatched-t.arrive)/1e6)
		disp = append(disp, float64(t.dispatchNs)/1e3)
		if t.deadline <= 0 {
			onTime++
			continue
		}
		admitted++
		l := t.finished - (t.arrive + t.deadline)
		late = append(late, float64(l)/1e6)
		if l > 0 {
			missed++
			admittedLate++
		} else {
			onTime++
		}
	}
	n := float64(len(states))
	res.MissRate = float64(missed) / n
	res.RejectedRate = float64(rejected) / n
	res.DegradedRate = float64(degraded) / n
	res.AdmittedMisses = admittedLate
	if admitted > 0 {
		res.AdmittedMissRate = float64(admittedLate) / float64(admitted)
	}
	res.P50LatenessMs, res.P99LatenessMs = quantile(late, 0.5), quantile(late, 0.99)
	res.P50WaitMs, res.P99WaitMs = quantile(wait, 0.5), quantile(wait, 0.99)
	res.P50DispatchUs, res.P99DispatchUs = quantile(disp, 0.5), quantile(disp, 0.99)
	res.OfferedUtilization = offered.Seconds() / (float64(r.w.Devices) * horizon.Seconds())
	if end > 0 {
		res.Throughput = float64(finished) / end.Seconds()
		res.GPUUtilization = r.gpu.busy.Seconds() / (float64(r.w.GPUSlices) * end.Seconds())
	}
	res.Goodput = float64(onTime) / horizon.Seconds()
	res.SimSeconds = end.Seconds()
	res.FirstRejection = r.firstReject
	return res
}

// quantile of xs (sorted in place), nearest rank; 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(q*float64(len(xs))+0.5) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
