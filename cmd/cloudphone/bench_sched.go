package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/sched/sim"
)

// benchSchedUtilizations are the offered loads every policy runs at.
var benchSchedUtilizations = []float64{0.5, 0.8, 0.95, 1.2, 1.5}

type benchSchedFlags struct {
	asJSON   bool
	seed     uint64
	tasks    int
	real     bool
	rate     float64
	seconds  float64
	ablation bool
}

// schedRow is one row of bench sched: a policy at a utilization.
type schedRow struct {
	Mode    string `json:"mode"` // sim
	Variant string `json:"variant"`
	*sim.Result
}

// realRow is the real-clock section's row.
type realRow struct {
	Mode   string `json:"mode"` // real
	Policy string `json:"policy"`
	*sim.RealResult
	// TargetRatio is p99 dispatch latency over the 1 ms target (< 1
	// meets it); SeedsRatio the rate over the source documents' 3,204
	// tasks/s.
	TargetRatio float64 `json:"p99_vs_1ms_target"`
	SeedsRatio  float64 `json:"rate_vs_seeds_3204"`
	// LoadAvg is the machine's 1-minute load average when the run ended
	// (0 where /proc/loadavg cannot be read): tail latency on a shared
	// machine is mostly the operating system's scheduling.
	LoadAvg float64 `json:"load_avg_1m"`
	CPUs    int     `json:"cpus"`
}

// loadAvg reads the 1-minute load average, or 0.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

func newBenchSchedCmd(_ *globals) *cobra.Command {
	f := &benchSchedFlags{}
	cmd := &cobra.Command{
		Use:   "sched",
		Short: "Compare EDF, FIFO and rate-monotonic scheduling in the simulator",
		Long: `bench sched runs the discrete-event simulator (core/sched/sim) over the real
scheduler on one seeded workload per utilization (0.5, 0.8, 0.95, 1.2,
1.5): EDF with admission control and overload degradation (ours), FIFO and
rate-monotonic (no admission, no degradation). It prints miss rate (over
all submitted tasks, rejected ones counted as misses), rejected rate,
misses among admitted tasks, p50/p99 lateness, p50/p99 dispatch latency
(the scheduler's decision cost, wall clock), throughput and GPU
utilization.

Then (--real, on by default) it drives the real dispatch loop on the wall
clock at --rate tasks/s against a virtual in-memory device set and reports
p99 dispatch latency against the 1 ms target.

--json prints one JSON object per row.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return benchSched(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per row")
	fl.Uint64Var(&f.seed, "seed", 1, "workload seed")
	fl.IntVar(&f.tasks, "tasks", 4000, "tasks per simulated run (about)")
	fl.BoolVar(&f.real, "real", true, "also drive the real dispatcher on the wall clock")
	fl.Float64Var(&f.rate, "rate", 10000, "real-clock submissions per second")
	fl.Float64Var(&f.seconds, "real-seconds", 2, "real-clock run length in seconds")
	fl.BoolVar(&f.ablation, "ablation", false, "also run EDF variants: urgency tie-break, no admission, no degradation")
	return cmd
}

// schedVariant is one scheduler configuration the bench runs.
type schedVariant struct {
	name    string
	cfg     config.SchedConfig
	urgency time.Duration
}

func schedVariants(ablation bool) []schedVariant {
	base := config.Default().Sched
	base.StepEstimate = 0 // the simulator's prior: the workload's nominal step
	edf := base
	fifo, rm := base, base
	fifo.Policy, rm.Policy = "fifo", "rm"
	fifo.Admission, fifo.Degrade = false, false
	rm.Admission, rm.Degrade = false, false
	vs := []schedVariant{{"admission+degrade", edf, 0}, {"plain", fifo, 0}, {"plain", rm, 0}}
	if ablation {
		noAdm, noDeg, plain := edf, edf, edf
		noAdm.Admission = false
		noDeg.Degrade = false
		plain.Admission, plain.Degrade = false, false
		vs = append(vs, schedVariant{"admission+degrade+urgency", edf, 10 * time.Millisecond},
			schedVariant{"admission+degrade+urgency-1s", edf, time.Second},
			schedVariant{"no-admission", noAdm, 0}, schedVariant{"no-degrade", noDeg, 0},
			schedVariant{"plain", plain, 0})
	}
	return vs
}

func benchSched(ctx context.Context, out io.Writer, f *benchSchedFlags) error {
	if f.tasks <= 0 {
		return fmt.Errorf("--tasks must be positive, got %d", f.tasks)
	}
	var rows []schedRow
	for _, u := range benchSchedUtilizations {
		for _, v := range schedVariants(f.ablation) {
			res, err := sim.Run(ctx, sim.Options{Workload: sim.DefaultWorkload(f.seed, f.tasks, u), Sched: v.cfg,
				UrgencyWindow: v.urgency})
			if err != nil {
				return fmt.Errorf("simulate %s (%s) at utilization %.2f: %w", v.cfg.Policy, v.name, u, err)
			}
			row := schedRow{Mode: "sim", Variant: v.name, Result: res}
			rows = append(rows, row)
			if f.asJSON {
				if err := json.NewEncoder(out).Encode(row); err != nil {
					return err
				}
			}
		}
	}
	if !f.asJSON {
		printSchedTable(out, rows)
	}
	if !f.real {
		return nil
	}
	res, err := sim.RunReal(ctx, sim.RealOptions{Rate: f.rate, Duration: time.Duration(f.seconds * float64(time.Second)),
		Devices: 512, Hold: 20 * time.Millisecond, Deadline: time.Second})
	if err != nil {
		return fmt.Errorf("real-clock run: %w", err)
	}
	rr := realRow{Mode: "real", Policy: "edf", RealResult: res, TargetRatio: res.P99DispatchUs / 1000,
		SeedsRatio: res.AchievedRate / 3204, LoadAvg: loadAvg(), CPUs: runtime.NumCPU()}
	if f.asJSON {
		return json.NewEncoder(out).Encode(rr)
	}
	fmt.Fprintf(out, "\nreal clock: %d tasks at %.0f/s (achieved %.0f/s, %.2f× the source documents' 3,204/s) on %d virtual devices (utilization %.2f)\n",
		res.Tasks, res.Rate, res.AchievedRate, rr.SeedsRatio, res.Devices, res.Utilization)
	fmt.Fprintf(out, "dispatch latency (to the task's goroutine running) p50 %.0f µs, p99 %.0f µs (%.2f× the 1 ms target), max %.0f µs\n",
		res.P50DispatchUs, res.P99DispatchUs, rr.TargetRatio, res.MaxDispatchUs)
	fmt.Fprintf(out, "decision latency (to the lease granted) p50 %.1f µs, p99 %.1f µs; %d rejected, %d missed; load average %.1f on %d CPUs\n",
		res.P50DecisionUs, res.P99DecisionUs, res.Rejected, res.Missed, rr.LoadAvg, rr.CPUs)
	return nil
}

func printSchedTable(out io.Writer, rows []schedRow) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tvariant\tutil\toffered\tmiss\trejected\tadmitted miss\tdegraded\tp50 late s\tp99 late s\tp50 wait s\tp99 wait s\tp50 disp µs\tp99 disp µs\ttasks/s\tGPU\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f%%\t%.2f%%\t%d\t%.1f%%\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.2f\t%.0f%%\t\n",
			r.Policy, r.Variant, r.Utilization, r.OfferedUtilization, 100*r.MissRate, 100*r.RejectedRate,
			r.AdmittedMisses, 100*r.DegradedRate, r.P50LatenessMs/1e3, r.P99LatenessMs/1e3, r.P50WaitMs/1e3,
			r.P99WaitMs/1e3, r.P50DispatchUs, r.P99DispatchUs, r.Throughput, 100*r.GPUUtilization)
	}
	tw.Flush()
	fmt.Fprintln(out, "\nlateness = finish - deadline (negative: early); miss counts rejected tasks; dispatch = wall-clock cost of the decision")
	for _, v := range schedCheck(rows) {
		fmt.Fprintln(out, v)
	}
}

// schedCheck states the properties the bench must show.
func schedCheck(rows []schedRow) []string {
	type key struct {
		policy, variant string
		u               float64
	}
	by := map[key]*sim.Result{}
	for _, r := range rows {
		by[key{r.Policy, r.Variant, r.Utilization}] = r.Result
	}
	var out []string
	for _, u := range benchSchedUtilizations {
		e := by[key{"edf", "admission+degrade", u}]
		fi, rm := by[key{"fifo", "plain", u}], by[key{"rm", "plain", u}]
		if e == nil || fi == nil || rm == nil {
			continue
		}
		if u <= 0.95 {
			verdict := "ok"
			if e.AdmittedMisses > 0 {
				verdict = "FAILED"
			}
			out = append(out, fmt.Sprintf("check u=%.2f: edf admitted misses %d (want 0): %s", u, e.AdmittedMisses, verdict))
			continue
		}
		verdict := "ok"
		if e.MissRate >= fi.MissRate || e.MissRate >= rm.MissRate {
			verdict = "FAILED"
		}
		out = append(out, fmt.Sprintf("check u=%.2f: miss rate edf %.2f%% < fifo %.2f%% and rm %.2f%%: %s",
			u, 100*e.MissRate, 100*fi.MissRate, 100*rm.MissRate, verdict))
	}
	return out
}
