package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type runFlags struct {
	device, backend, planner, model string
	modelPlugin, modelURL           string
	maxSteps                        int
	deadline                        time.Duration
	asJSON                          bool
	wait, deviceWait                time.Duration
	server, token                   string
}

// planners maps --planner short names onto plugin names.
var planners = map[string]string{"intent": "planner-intent", "autoglm": "planner-autoglm"}

func newRunCmd(g *globals) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   `run "<instruction>"`,
		Short: "Carry out an instruction on a phone and print each step",
		Long: `run starts the runtime in-process with the config (by default: simulated
phones from the device-sim plugin and the offline planner-intent planner, no
GPU), leases a phone from the device pool (tenant "default"), and runs the
instruction, printing every step as it happens. It exits 0 when the task
succeeds, 1 with the reason otherwise: also when the phone fails mid-task
and the pool takes the lease back.

With --server it submits to a running server instead (POST /api/v1/run)
and follows the task's event stream, printing the same steps; the token
comes from --token or CLOUDPHONE_TOKEN.

  cloudphone run "打开设置然后打开飞行模式"
  cloudphone run --json "open WeChat and send 张三 a message saying hi"
  cloudphone run --server http://127.0.0.1:8080 --token "$TOKEN" "打开设置"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTask(cmd.Context(), g, cmd, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.device, "device", "", `device: "<backend>/<id>" or an id (default: any free device)`)
	fl.StringVar(&f.backend, "backend", "", "device backend plugin (default: any enabled in devices.backends)")
	fl.StringVar(&f.planner, "planner", "intent", "planner: intent, autoglm, or a planner plugin's name")
	fl.StringVar(&f.model, "model", "", "model name the server serves, e.g. autoglm-phone-9b (config plugins.config.<model plugin>.model)")
	fl.StringVar(&f.modelURL, "model-url", "", "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (config plugins.config.<model plugin>.base_url)")
	fl.StringVar(&f.modelPlugin, "model-plugin", "", "model plugin for planners that need inference (default model-openai for --planner autoglm)")
	fl.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "stop after this many steps")
	fl.DurationVar(&f.deadline, "deadline", 5*time.Minute, "give up after this long")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON event per line")
	fl.DurationVar(&f.wait, "plugin-wait", 60*time.Second, "how long to wait for the plugins to load")
	fl.DurationVar(&f.deviceWait, "device-wait", 60*time.Second, "how long to wait for a free device")
	fl.StringVar(&f.server, "server", "", "submit to the server at this URL instead of running in-process")
	fl.StringVar(&f.token, "token", "", "bearer token for --server (default $CLOUDPHONE_TOKEN)")
	addNodeFlags(cmd)
	return cmd
}

func runTask(ctx context.Context, g *globals, cmd *cobra.Command, f *runFlags, instruction string) error {
	if strings.TrimSpace(instruction) == "" {
		return errors.New("run: empty instruction")
	}
	// Steps are the output: the log shows warnings and errors only.
	g.level.Set(slog.LevelWarn)
	planner := f.planner
	if p, ok := planners[planner]; ok {
		planner = p
	}
	if f.modelPlugin == "" && planner == "planner-autoglm" {
		f.modelPlugin = "model-openai"
	}
	if f.server != "" {
		return remoteRun(ctx, f, instruction)
	}
	env, err := runEnv(g, cmd)
	if err != nil {
		return err
	}
	// --model and --model-url configure the model plugin for this run.
	for key, val := range map[string]string{"model": f.model, "base_url": f.modelURL} {
		if val != "" && f.modelPlugin != "" {
			env = append(env, config.EnvName("plugins.config."+f.modelPlugin+"."+key)+"="+val)
		}
	}
	n, err := node.New(ctx, node.Options{ConfigFile: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys,
		Logger: g.logger(), Env: env})
	if err != nil {
		return err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Start(ctx, false); err != nil {
		return err
	}
	names := []string{planner}
	if f.modelPlugin != "" {
		names = append(names, f.modelPlugin)
	}
	if f.backend != "" {
		names = append(names, f.backend)
	}
	for _, name := range names {
		if err := waitActive(ctx, n.Host, name, f.wait); err != nil {
			return err
		}
	}
	task := agent.Task{ID: fmt.Sprintf("run-%d", time.Now().UnixNano()), Instruction: instruction, Planner: planner,
		Model: f.modelPlugin, Tenant: pool.DefaultTenant, MaxSteps: f.maxSteps, Deadline: time.Now().Add(f.deadline),
		Lang: langOf(instruction)}
	lease, err := leaseDevice(ctx, n.Pool, f, task)
	if err != nil {
		return err
	}
	defer lease.Release()
	out := os.Stdout
	r := &agent.Runner{Planners: n.Host, Models: n.Models(), OnEvent: func(e agent.Event) { printEvent(out, e, f.asJSON) }}
	if !f.asJSON {
		fmt.Fprintf(out, "task %s on %s with %s\n", instruction, lease.Device, planner)
	}
	_, err = runOnLease(ctx, r, task, lease)
	return err
}

// runOnLease runs task on the leased device. A lease lost mid-task (the
// phone died, its backend went away, the lease expired) ends the task,
// which fails with the pool's reason.
func runOnLease(ctx context.Context, r *agent.Runner, task agent.Task, lease *pool.Lease) (agent.Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case err := <-lease.Lost():
			cancel(err)
		case <-ctx.Done():
		}
	}()
	res, err := r.Run(ctx, task, lease)
	if err != nil {
		return res, err
	}
	if lost := lease.Err(); lost != nil {
		return res, &exitError{code: 1, err: fmt.Errorf("task failed: device %s: %w", lease.Device, lost)}
	}
	if res.Status != agent.StatusSucceeded {
		return res, &exitError{code: 1, err: fmt.Errorf("task %s: %s", res.Status, res.Message)}
	}
	return res, nil
}

// runEnv is the environment of an in-process run: unless the config says
// where simulated phones listen, they take ports the system picks, so a run
// never collides with a server (or another run) on this machine.
func runEnv(g *globals, cmd *cobra.Command) ([]string, error) {
	cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys})
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	if _, set := cfg.Plugins.Config["device-sim"]["listen"]; !set {
		env = append(env, config.EnvName("plugins.config.device-sim.listen")+"=127.0.0.1:0")
	}
	return env, nil
}

// waitActive waits until the plugin name serves, or says why not.
func waitActive(ctx context.Context, h *pluginhost.Host, name string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var why string
		for _, s := range h.Status() {
			if s.Name == name && s.State == pluginhost.StateActive {
				return nil
			}
			if s.Name == name && s.State == pluginhost.StateRejected {
				why = s.Error
			}
		}
		if time.Now().After(deadline) || why != "" {
			if why == "" {
				why = "not found in the plugin directory (run `make build`, or check --plugins-dir)"
			}
			return fmt.Errorf("plugin %s is not available: %s", name, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// leaseDevice leases the task's device from the pool: the one --device
// names, or any free one of --backend (or of any enabled backend).
func leaseDevice(ctx context.Context, p *pool.Pool, f *runFlags, task agent.Task) (*pool.Lease, error) {
	if f.backend != "" {
		enabled := slices.ContainsFunc(p.Backends(), func(b pool.BackendStatus) bool { return b.Name == f.backend })
		if !enabled {
			return nil, fmt.Errorf("device backend %s is not in the pool: enable it with devices.backends.%s.enabled: true", f.backend, f.backend)
		}
	}
	req := pool.Request{Tenant: task.Tenant, Owner: task.ID, TTL: f.deadline + time.Minute}
	if f.backend != "" {
		req.Labels = map[string]string{"backend": f.backend}
	}
	if req.DeviceID = f.device; f.device != "" && f.backend != "" && !strings.Contains(f.device, "/") {
		req.DeviceID = f.backend + "/" + f.device
	}
	lctx, cancel := context.WithTimeout(ctx, f.deviceWait)
	defer cancel()
	l, err := p.Lease(lctx, req)
	if err != nil {
		return nil, fmt.Errorf("no device for the task: %w", err)
	}
	return l, nil
}

func langOf(s string) string {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return "zh"
		}
	}
	return "en"
}

func printEvent(w io.Writer, e agent.Event, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(e)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	switch e.Kind {
	case agent.EventStep:
		what := "finish"
		if e.Action != nil {
			what = describeAction(e.Action)
		}
		fmt.Fprintf(w, "step %2d  %-34s %s\n", e.Step, what, firstLine(e.Thinking))
		if t := e.Timings; t != nil {
			fmt.Fprintf(w, "         observe %s  plan %s  act %s  settle %s  core %s\n", ms(t.Observe), ms(t.Plan), ms(t.Act), ms(t.Settle), ms(t.Overhead))
		}
		if e.Error != "" {
			fmt.Fprintf(w, "         error: %s\n", e.Error)
		}
	case agent.EventRetry:
		fmt.Fprintf(w, "         retry: %s\n", e.Error)
	case agent.EventPaused:
		fmt.Fprintf(w, "         paused: %s\n", e.Message)
	case agent.EventDegraded:
		fmt.Fprintf(w, "         degraded: %s\n", e.Message)
	case agent.EventFinished:
		r := e.Result
		fmt.Fprintf(w, "%s after %d steps in %s: %s\n", r.Status, r.Steps, r.Elapsed.Round(time.Millisecond), r.Message)
	}
}

func describeAction(a *cpv1.Action) string {
	name := strings.ToLower(strings.TrimPrefix(a.GetType().String(), "ACTION_TYPE_"))
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_TAP, cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		return fmt.Sprintf("%s (%d,%d)", name, a.GetPoint().GetX(), a.GetPoint().GetY())
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		return fmt.Sprintf("swipe (%d,%d)→(%d,%d)", a.GetPoint().GetX(), a.GetPoint().GetY(), a.GetEnd().GetX(), a.GetEnd().GetY())
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		return fmt.Sprintf("type %q", a.GetText())
	case cpv1.ActionType_ACTION_TYPE_KEY:
		return "key " + a.GetKey()
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		app := a.GetApp()
		if app == "" {
			app = a.GetPackage()
		}
		return "launch " + app
	}
	return name
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}
