package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Defaults for Runner fields.
const (
	DefaultMaxSteps     = 30
	DefaultStepTimeout  = 2 * time.Minute
	DefaultInferRounds  = 3
	DefaultObserveTries = 3
)

// Runner runs tasks. A Runner is safe for concurrent use; each Run is
// independent.
type Runner struct {
	Planners Planners
	Models   Models
	// Gate decides sensitive actions and take-overs; nil approves every
	// sensitive action and fails tasks that need a take-over.
	Gate Gate
	// OnEvent is told of every event, in order, from Run's goroutine.
	OnEvent func(Event)
	// StepTimeout bounds one step (default DefaultStepTimeout).
	StepTimeout time.Duration
	// Settle tunes the wait for the screen after an action.
	Settle SettleOptions
	// Now is the clock (default time.Now).
	Now func() time.Time
	// InferDeadline, when set, gives the deadline of a step's inference
	// request, the key its model slice orders requests by (EDF): task is
	// the task, step the current step, afterInfer what the step still
	// needs once the model answers (the last step's act, settle and
	// observe). A zero time, or none set, uses the step's own deadline.
	InferDeadline func(task Task, step int, afterInfer time.Duration) time.Time
	// Retier, when set, is asked after every step (done: the steps done so
	// far) which planner and model the task uses from the next step on:
	// the scheduler moves a task predicted to miss its deadline to a
	// cheaper tier before it misses. Empty strings keep the current ones.
	// A switch drops the old planner's state and is an EventDegraded.
	Retier func(task Task, done int) (planner, model string)
}

// run is the state of one Run.
type run struct {
	r       *Runner
	task    Task
	dev     Device
	seq     int
	history []*cpv1.HistoryEntry
	state   []byte
	start   time.Time
	// lastObserve is the time the observation for the next step took.
	lastObserve time.Duration
	// afterInfer is the last step's act + settle + observe time.
	afterInfer time.Duration
	// screenshots says whether observations carry a screenshot.
	screenshots bool
}

// Run carries out task on dev and returns how it ended. It returns an
// error only for misuse (no planner); every failure of the task itself is a
// Result with its reason.
func (r *Runner) Run(ctx context.Context, task Task, dev Device) (Result, error) {
	if task.Planner == "" {
		return Result{}, errors.New("run task: no planner named")
	}
	if task.MaxSteps <= 0 {
		task.MaxSteps = DefaultMaxSteps
	}
	if task.Lang == "" {
		task.Lang = "zh"
	}
	if !task.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, task.Deadline)
		defer cancel()
	}
	ru := &run{r: r, task: task, dev: dev, start: r.now(), screenshots: task.Screenshots}
	if c, ok := r.Planners.(capabilities); ok && slices.Contains(c.Capabilities(task.Planner), "vision") {
		ru.screenshots = true
	} else if !ok {
		ru.screenshots = true // unknown planner: assume it looks
	}
	res := ru.loop(ctx)
	res.Elapsed = r.now().Sub(ru.start)
	ru.emit(Event{Kind: EventFinished, Step: res.Steps, Message: res.Message, Result: &res})
	return res, nil
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (ru *run) emit(ev Event) {
	ru.seq++
	ev.TaskID, ev.Seq = ru.task.ID, ru.seq
	if ev.Time.IsZero() {
		ev.Time = ru.r.now()
	}
	if ru.r.OnEvent != nil {
		ru.r.OnEvent(ev)
	}
}

// ended maps a context error to the task's end.
func (ru *run) ended(ctx context.Context, step int) (Result, bool) {
	switch {
	case ctx.Err() == nil:
		return Result{}, false
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Result{Status: StatusDeadline, Steps: step, Message: "deadline reached before the task finished"}, true
	default:
		return Result{Status: StatusCanceled, Steps: step, Message: "canceled"}, true
	}
}

func (ru *run) loop(ctx context.Context) Result {
	obs, err := ru.observe(ctx, 0)
	if err != nil {
		if res, done := ru.ended(ctx, 0); done {
			return res
		}
		return Result{Status: StatusFailed, Message: fmt.Sprintf("observe: %v", err)}
	}
	for step := 1; step <= ru.task.MaxSteps; step++ {
		if res, done := ru.ended(ctx, step-1); done {
			return res
		}
		next, res, done := ru.step(ctx, step, obs)
		if done {
			return res
		}
		obs = next
		ru.retier(step)
	}
	return Result{Status: StatusStepLimit, Steps: ru.task.MaxSteps,
		Message: fmt.Sprintf("stopped after %d steps without finishing", ru.task.MaxSteps)}
}

// step runs one step on obs and returns the next observation, or the
// task's result when it ended.
func (ru *run) step(ctx context.Context, step int, obs *cpv1.Observation) (*cpv1.Observation, Result, bool) {
	timeout := ru.r.StepTimeout
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := &Timings{Observe: ru.lastObserve}
	begin := ru.r.now()
	ru.lastObserve = 0

	resp, reply, err := ru.plan(sctx, step, obs, t)
	if err != nil {
		if res, done := ru.ended(ctx, step); done {
			return nil, res, true
		}
		ru.record(step, resp, reply, nil, err)
		return nil, Result{Status: StatusFailed, Steps: step, Message: err.Error()}, true
	}
	ev := Event{Kind: EventStep, Step: step, Thinking: resp.GetThinking(), App: obs.GetCurrentApp(),
		ScreenshotSHA256: obs.GetScreenshotSha256(), Observation: obs, Timings: t}
	if f := resp.GetFinish(); f != nil {
		ru.record(step, resp, reply, nil, nil)
		t.Total = ru.r.now().Sub(begin) + t.Observe
		t.Overhead = t.Total - t.Observe - t.Infer
		ev.Message = f.GetMessage()
		ru.emit(ev)
		status := StatusSucceeded
		if !f.GetSuccess() {
			status = StatusFailed
		}
		return nil, Result{Status: status, Steps: step, Message: f.GetMessage()}, true
	}
	a := resp.GetAction()
	ev.Action = a
	if msg, ok := ru.hold(sctx, step, a); !ok {
		ru.record(step, resp, reply, a, errors.New(msg))
		if res, done := ru.ended(ctx, step); done {
			return nil, res, true
		}
		return nil, Result{Status: StatusFailed, Steps: step, Message: msg}, true
	}
	var actErr error
	if a.GetType() != cpv1.ActionType_ACTION_TYPE_TAKE_OVER && a.GetType() != cpv1.ActionType_ACTION_TYPE_NOTE {
		actStart := ru.r.now()
		_, actErr = ru.dev.Act(sctx, a)
		t.Act = ru.r.now().Sub(actStart)
	}
	ru.record(step, resp, reply, a, actErr)
	if actErr != nil {
		ev.Error = actErr.Error()
		ru.emit(ev)
		if res, done := ru.ended(ctx, step); done {
			return nil, res, true
		}
		return nil, Result{Status: StatusFailed, Steps: step, Message: fmt.Sprintf("act: %v", actErr)}, true
	}
	next, err := ru.settle(sctx, a, obs, t)
	t.Total = ru.r.now().Sub(begin) + t.Observe
	t.Overhead = max(0, t.Total-t.Observe-t.Infer-t.Act-t.Settle-ru.lastObserve)
	ru.afterInfer = t.Act + t.Settle + ru.lastObserve
	ru.emit(ev)
	if err != nil {
		if res, done := ru.ended(ctx, step); done {
			return nil, res, true
		}
		return nil, Result{Status: StatusFailed, Steps: step, Message: fmt.Sprintf("observe: %v", err)}, true
	}
	return next, Result{}, false
}

// plan asks the planner for the step's decision, running inference rounds
// and one retry with feedback on a retryable planner error.
func (ru *run) plan(ctx context.Context, step int, obs *cpv1.Observation, t *Timings) (*cpv1.PlanResponse, string, error) {
	req := &cpv1.PlanRequest{TaskId: ru.task.ID, Instruction: ru.task.Instruction, Step: int32(step),
		Observation: obs, History: ru.history, State: ru.state, Lang: ru.task.Lang,
		Date: ru.r.now().Format("2006-01-02"), Model: ru.task.Model}
	retried := false
	var reply string
	for round := 0; ; round++ {
		start := ru.r.now()
		resp, err := ru.r.Planners.Plan(ctx, ru.task.Planner, req)
		t.Plan += ru.r.now().Sub(start)
		if err != nil {
			return nil, reply, fmt.Errorf("planner %s: %w", ru.task.Planner, err)
		}
		if len(resp.GetState()) > 0 {
			ru.state = resp.GetState()
		}
		switch res := resp.GetResult().(type) {
		case *cpv1.PlanResponse_Action:
			if res.Action.GetType() == cpv1.ActionType_ACTION_TYPE_UNSPECIFIED {
				return resp, reply, fmt.Errorf("planner %s returned an action with no type", ru.task.Planner)
			}
			return resp, reply, nil
		case *cpv1.PlanResponse_Finish:
			return resp, reply, nil
		case *cpv1.PlanResponse_Error:
			if !res.Error.GetRetryable() || retried {
				return resp, reply, fmt.Errorf("planner %s: %s", ru.task.Planner, res.Error.GetMessage())
			}
			retried = true
			// Plan again without the output that failed, so a planner that
			// uses a model asks it again, with the feedback.
			req.Feedback, req.ModelOutput = res.Error.GetFeedback(), nil
			ru.emit(Event{Kind: EventRetry, Step: step, Error: res.Error.GetMessage()})
		case *cpv1.PlanResponse_Infer:
			if round >= DefaultInferRounds {
				return resp, reply, fmt.Errorf("planner %s asked for inference %d times in one step", ru.task.Planner, round+1)
			}
			out, err := ru.infer(ctx, step, res.Infer, t)
			reply = out.GetText()
			if err != nil && ctx.Err() != nil {
				return resp, reply, err
			}
			req.ModelOutput = out
		default:
			return resp, reply, fmt.Errorf("planner %s returned no result", ru.task.Planner)
		}
	}
}

// infer runs one inference request; a failure is handed to the planner as
// ModelOutput.Error so it can degrade or give up.
func (ru *run) infer(ctx context.Context, step int, req *cpv1.InferRequest, t *Timings) (*cpv1.ModelOutput, error) {
	model := req.GetModel()
	if model == "" {
		model = ru.task.Model
	}
	out := &cpv1.ModelOutput{Model: model}
	if ru.r.Models == nil || model == "" {
		out.Error = "no model configured for this task"
		return out, nil
	}
	req.TaskId, req.Tenant = ru.task.ID, ru.task.Tenant
	dl, ok := ctx.Deadline()
	if f := ru.r.InferDeadline; f != nil {
		if d := f(ru.task, step, ru.afterInfer); !d.IsZero() && (!ok || d.Before(dl)) {
			dl, ok = d, true
		}
	}
	if ok {
		req.DeadlineUnixMs = dl.UnixMilli()
	}
	var b strings.Builder
	start := ru.r.now()
	err := ru.r.Models.Infer(ctx, model, req, func(c *cpv1.InferChunk) error {
		b.WriteString(c.GetDelta())
		return nil
	})
	t.Infer += ru.r.now().Sub(start)
	out.Text = b.String()
	if err != nil {
		out.Error = err.Error()
	}
	ru.emit(Event{Kind: EventInfer, Step: step, Message: truncate(out.Text, 200), Error: out.Error})
	return out, err
}

// hold runs the gate for sensitive actions and take-overs. It returns
// false with a reason when the task must end.
func (ru *run) hold(ctx context.Context, step int, a *cpv1.Action) (string, bool) {
	switch {
	case a.GetType() == cpv1.ActionType_ACTION_TYPE_TAKE_OVER:
		if ru.r.Gate == nil {
			return "the task needs a person (take-over: " + a.GetMessage() + ") and no one is asked in this mode", false
		}
		ru.emit(Event{Kind: EventPaused, Step: step, Action: a, Message: a.GetMessage()})
		if err := ru.r.Gate.TakeOver(ctx, ru.task.ID, a.GetMessage()); err != nil {
			return "take-over: " + err.Error(), false
		}
		ru.emit(Event{Kind: EventResumed, Step: step})
	case a.GetSensitive():
		if ru.r.Gate == nil {
			return "", true
		}
		ru.emit(Event{Kind: EventPaused, Step: step, Action: a, Message: a.GetMessage()})
		ok, err := ru.r.Gate.Confirm(ctx, ru.task.ID, a)
		if err != nil {
			return "confirm: " + err.Error(), false
		}
		ru.emit(Event{Kind: EventResumed, Step: step, Message: fmt.Sprintf("confirmed=%v", ok)})
		if !ok {
			return "sensitive action refused: " + a.GetMessage(), false
		}
	}
	return "", true
}

// record appends the step to the history the planner sees next time.
func (ru *run) record(step int, resp *cpv1.PlanResponse, reply string, a *cpv1.Action, err error) {
	h := &cpv1.HistoryEntry{Step: int32(step), Thinking: resp.GetThinking(), ModelReply: reply,
		Action: a, ScreenInfo: resp.GetScreenInfo()}
	if resp.GetModelReply() != "" {
		h.ModelReply = resp.GetModelReply()
	}
	if err != nil {
		h.Error = err.Error()
	}
	ru.history = append(ru.history, h)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// retier switches the task's planner and model when Runner.Retier says so,
// after step done.
func (ru *run) retier(done int) {
	f := ru.r.Retier
	if f == nil {
		return
	}
	p, m := f(ru.task, done)
	if p == "" {
		p = ru.task.Planner
	}
	if m == "" {
		m = ru.task.Model
	}
	if p == ru.task.Planner && m == ru.task.Model {
		return
	}
	msg := fmt.Sprintf("predicted to miss the deadline: planner %s → %s, model %s → %s",
		ru.task.Planner, p, orNone(ru.task.Model), orNone(m))
	if p != ru.task.Planner {
		ru.state = nil // another planner's state means nothing to this one
	}
	ru.task.Planner, ru.task.Model = p, m
	ru.emit(Event{Kind: EventDegraded, Step: done, Message: msg})
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
