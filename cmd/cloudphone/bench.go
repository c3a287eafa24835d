package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/examples/tasks"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func newBenchCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run cloudphone's benchmark suites",
		Long:  "bench runs a benchmark suite against an in-process runtime and reports what it measured.",
	}
	cmd.AddCommand(newBenchAgentCmd(g))
	cmd.AddCommand(newBenchSchedCmd(g))
	return cmd
}

type benchAgentFlags struct {
	planner, model string
	parallel       int
	phones         int
	maxSteps       int
	asJSON         bool
	only           string
}

// agentSummary is the --json output of bench agent.
type agentSummary struct {
	SuccessRate    float64 `json:"success_rate"`
	Tasks          int     `json:"tasks"`
	Succeeded      int     `json:"succeeded"`
	MeanSteps      float64 `json:"mean_steps"`
	P50StepMs      float64 `json:"p50_step_ms"`
	P99StepMs      float64 `json:"p99_step_ms"`
	CoreOverheadUs float64 `json:"core_overhead_us"`
	Phones         int     `json:"phones"`
	Parallel       int     `json:"parallel"`
	Planner        string  `json:"planner"`
	ElapsedMs      float64 `json:"elapsed_ms"`
	// CoreHeapPerTaskKiB is the host's peak heap growth while tasks ran,
	// divided by the tasks running at once: what the core holds per phone
	// it drives (the phones themselves live in the device-sim process).
	CoreHeapPerTaskKiB float64        `json:"core_heap_per_task_kib"`
	Failures           []benchFailure `json:"failures"`
}

type benchFailure struct {
	Task   string `json:"task"`
	Reason string `json:"reason"`
}

func newBenchAgentCmd(g *globals) *cobra.Command {
	f := &benchAgentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the task suite (examples/tasks) on simulated phones",
		Long: `bench agent runs every task of the suite in examples/tasks on a fresh
simulated phone through the real runtime (plugin host, planner plugin,
device-sim plugin, agent loop), checks each result against the phone's
state, and reports the success rate, steps, time per step and the core's own
overhead per step (everything but device and model time).

--phones N runs N simulated phones and repeats the suite until every phone
has run a task; --parallel N runs N tasks at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return benchAgent(cmd.Context(), g, cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.planner, "planner", "intent", "planner: intent, autoglm, or a planner plugin's name")
	fl.StringVar(&f.model, "model", "", "model plugin for planners that need inference")
	fl.IntVar(&f.parallel, "parallel", 8, "tasks run at once")
	fl.IntVar(&f.phones, "phones", 0, "simulated phones (default: --parallel)")
	fl.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "step limit per task")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON summary object")
	fl.StringVar(&f.only, "task", "", "run only the task with this id")
	addNodeFlags(cmd)
	return cmd
}

func benchAgent(ctx context.Context, g *globals, cmd *cobra.Command, f *benchAgentFlags) error {
	suite, err := tasks.Load()
	if err != nil {
		return err
	}
	if f.only != "" {
		suite = slices.DeleteFunc(suite, func(t tasks.Task) bool { return t.ID != f.only })
		if len(suite) == 0 {
			return fmt.Errorf("no task %q in the suite", f.only)
		}
	}
	f.parallel = max(1, f.parallel)
	if f.phones <= 0 {
		f.phones = f.parallel
	}
	jobs := len(suite) * max(1, (f.phones+len(suite)-1)/len(suite))
	g.level.Set(slog.LevelWarn)
	cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys})
	if err != nil {
		return err
	}
	env := os.Environ()
	if _, set := cfg.Plugins.Config["device-sim"]["listen"]; !set {
		env = append(env, config.EnvName("plugins.config.device-sim.listen")+"=127.0.0.1:0")
	}
	env = append(env, config.EnvName("plugins.config.device-sim.count")+"="+strconv.Itoa(f.phones))
	n, err := node.New(ctx, node.Options{ConfigFile: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys,
		Logger: g.logger(), Env: env})
	if err != nil {
		return err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Start(ctx, false); err != nil {
		return err
	}
	planner := f.planner
	if p, ok := planners[planner]; ok {
		planner = p
	}
	for _, name := range []string{planner, "device-sim"} {
		if err := waitActive(ctx, n.Host, name, 2*time.Minute); err != nil {
			return err
		}
	}
	b := &benchRun{h: n.Host, models: n.Models(), planner: planner, model: f.model, maxSteps: f.maxSteps}
	if err := b.fillPhones(ctx); err != nil {
		return err
	}
	base, peak := heapInUse(), atomic.Uint64{}
	stopSampling := sampleHeap(&peak)
	start := time.Now()
	b.run(ctx, suite, jobs, f.parallel)
	elapsed := time.Since(start)
	stopSampling()
	sum := b.summary(f, elapsed)
	if p := peak.Load(); p > base {
		sum.CoreHeapPerTaskKiB = float64(p-base) / 1024 / float64(min(f.parallel, jobs))
	}
	if f.asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	printSummary(os.Stdout, sum)
	return nil
}

// benchRun hands out fresh phones and collects results.
type benchRun struct {
	h        *pluginhost.Host
	models   agent.Models
	planner  string
	model    string
	maxSteps int

	mu       sync.Mutex
	fresh    []string // phones no task has used yet
	steps    []time.Duration
	overhead []time.Duration
	nsteps   int
	ok       int
	total    int
	failures []benchFailure
}

func (b *benchRun) device(ctx context.Context, fn func(pluginhost.Device) error) error {
	return b.h.WithDevice("device-sim", fn)
}

func (b *benchRun) fillPhones(ctx context.Context) error {
	return b.device(ctx, func(d pluginhost.Device) error {
		list, err := d.List(ctx, &cpv1.ListRequest{})
		for _, dev := range list.GetDevices() {
			b.fresh = append(b.fresh, dev.GetId())
		}
		return err
	})
}

// phone returns a phone no task has touched: one of the phones started
// with the fleet, then newly provisioned ones.
func (b *benchRun) phone(ctx context.Context) (string, error) {
	b.mu.Lock()
	if len(b.fresh) > 0 {
		id := b.fresh[len(b.fresh)-1]
		b.fresh = b.fresh[:len(b.fresh)-1]
		b.mu.Unlock()
		return id, nil
	}
	b.mu.Unlock()
	var id string
	err := b.device(ctx, func(d pluginhost.Device) error {
		info, err := d.Provision(ctx, &cpv1.ProvisionRequest{})
		id = info.GetId()
		return err
	})
	return id, err
}

func (b *benchRun) run(ctx context.Context, suite []tasks.Task, jobs, parallel int) {
	work := make(chan tasks.Task)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				b.one(ctx, t)
			}
		}()
	}
	for i := 0; i < jobs && ctx.Err() == nil; i++ {
		work <- suite[i%len(suite)]
	}
	close(work)
	wg.Wait()
}

func (b *benchRun) one(ctx context.Context, t tasks.Task) {
	fail := func(reason string) {
		b.mu.Lock()
		b.total++
		b.failures = append(b.failures, benchFailure{Task: t.ID, Reason: reason})
		b.mu.Unlock()
	}
	id, err := b.phone(ctx)
	if err != nil {
		fail("no phone: " + err.Error())
		return
	}
	defer b.device(context.WithoutCancel(ctx), func(d pluginhost.Device) error {
		_, err := d.Release(context.WithoutCancel(ctx), &cpv1.ReleaseRequest{DeviceId: id})
		return err
	})
	var steps, overhead []time.Duration
	r := &agent.Runner{Planners: b.h, Models: b.models, OnEvent: func(e agent.Event) {
		if e.Kind == agent.EventStep && e.Timings != nil {
			steps = append(steps, e.Timings.Total)
			overhead = append(overhead, e.Timings.Overhead)
		}
	}}
	res, err := r.Run(ctx, agent.Task{ID: t.ID, Instruction: t.Instruction, Planner: b.planner, Model: b.model,
		MaxSteps: b.maxSteps, Lang: t.Lang}, agent.PluginDevice{Backends: b.h, Backend: "device-sim", ID: id})
	var checkErr error
	if err == nil && res.Status == agent.StatusSucceeded {
		checkErr = b.device(ctx, func(d pluginhost.Device) error {
			sh, err := d.Shell(ctx, &cpv1.ShellRequest{DeviceId: id, Command: "cloudphone-state"})
			if err != nil {
				return fmt.Errorf("read state: %w", err)
			}
			return t.Check(sh.GetStdout())
		})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total++
	b.steps = append(b.steps, steps...)
	b.overhead = append(b.overhead, overhead...)
	b.nsteps += res.Steps
	switch {
	case err != nil:
		b.failures = append(b.failures, benchFailure{Task: t.ID, Reason: err.Error()})
	case res.Status != agent.StatusSucceeded:
		b.failures = append(b.failures, benchFailure{Task: t.ID, Reason: string(res.Status) + ": " + res.Message})
	case checkErr != nil:
		var ce *tasks.CheckError
		reason := checkErr.Error()
		if errors.As(checkErr, &ce) {
			reason = "check failed: " + ce.Error()
		}
		b.failures = append(b.failures, benchFailure{Task: t.ID, Reason: reason})
	default:
		b.ok++
	}
}

func (b *benchRun) summary(f *benchAgentFlags, elapsed time.Duration) agentSummary {
	s := agentSummary{Tasks: b.total, Succeeded: b.ok, Phones: f.phones, Parallel: f.parallel, Planner: b.planner,
		ElapsedMs: float64(elapsed.Microseconds()) / 1000, Failures: b.failures}
	if s.Failures == nil {
		s.Failures = []benchFailure{}
	}
	if b.total > 0 {
		s.SuccessRate = float64(b.ok) / float64(b.total)
		s.MeanSteps = float64(b.nsteps) / float64(b.total)
	}
	s.P50StepMs = float64(quantile(b.steps, 0.50).Microseconds()) / 1000
	s.P99StepMs = float64(quantile(b.steps, 0.99).Microseconds()) / 1000
	if len(b.overhead) > 0 {
		var sum time.Duration
		for _, o := range b.overhead {
			sum += o
		}
		s.CoreOverheadUs = float64((sum / time.Duration(len(b.overhead))).Nanoseconds()) / 1000
	}
	return s
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// sampleHeap records the peak heap in use every 100ms until stopped.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func printSummary(w io.Writer, s agentSummary) {
	fmt.Fprintf(w, "planner %s, %d tasks on %d phones, %d at once, %.1fs\n", s.Planner, s.Tasks, s.Phones, s.Parallel, s.ElapsedMs/1000)
	fmt.Fprintf(w, "success      %d/%d (%.1f%%)\n", s.Succeeded, s.Tasks, 100*s.SuccessRate)
	fmt.Fprintf(w, "steps        %.2f per task\n", s.MeanSteps)
	fmt.Fprintf(w, "step time    p50 %.1f ms, p99 %.1f ms\n", s.P50StepMs, s.P99StepMs)
	fmt.Fprintf(w, "core         %.0f µs per step (everything but device and model time)\n", s.CoreOverheadUs)
	fmt.Fprintf(w, "core memory  %.0f KiB per phone driven at once (peak heap growth / %d)\n", s.CoreHeapPerTaskKiB, s.Parallel)
	for _, f := range s.Failures {
		fmt.Fprintf(w, "FAIL %s: %s\n", f.Task, f.Reason)
	}
}
