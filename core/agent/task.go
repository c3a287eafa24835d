package agent

import (
	"context"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Task is one instruction to carry out on one device.
type Task struct {
	ID          string
	Instruction string
	// Planner and Model are plugin names; Model may be empty when the
	// planner needs none.
	Planner string
	Model   string
	Tenant  string
	// Lang is "zh" (default) or "en".
	Lang string
	// MaxSteps bounds the steps (default 30).
	MaxSteps int
	// Deadline, when set, ends the task with StatusDeadline.
	Deadline time.Time
	// Screenshots keeps a screenshot in every observation even when the
	// planner does not look at them (for a timeline a person reads). By
	// default they are taken only for planners that declare "vision".
	Screenshots bool
}

// Status is how a task ended.
type Status string

const (
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCanceled  Status = "canceled"
	StatusDeadline  Status = "deadline_exceeded"
	StatusStepLimit Status = "step_limit"
)

// Result is the outcome of Run.
type Result struct {
	Status  Status        `json:"status"`
	Message string        `json:"message"`
	Steps   int           `json:"steps"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// Event kinds.
const (
	EventStep     = "step"     // one step done: observation, plan, action, timings
	EventInfer    = "infer"    // an inference round finished
	EventPaused   = "paused"   // waiting for a person (confirm or take-over)
	EventResumed  = "resumed"  // the person answered
	EventRetry    = "retry"    // a step is retried (planner error or device error)
	EventDegraded = "degraded" // the task moved to a cheaper planner/model (Runner.Retier)
	EventFinished = "finished" // the task ended; Result is set
)

// Timings of one step. Device and Model are time spent waiting on the
// device backend and the model; everything else is the runtime's own cost
// (planner included), reported as Overhead.
type Timings struct {
	Observe  time.Duration `json:"observe_ns"`
	Plan     time.Duration `json:"plan_ns"`
	Infer    time.Duration `json:"infer_ns"`
	Act      time.Duration `json:"act_ns"`
	Settle   time.Duration `json:"settle_ns"`
	Total    time.Duration `json:"total_ns"`
	Overhead time.Duration `json:"overhead_ns"`
}

// Event is one thing that happened in a task.
type Event struct {
	TaskID   string       `json:"task_id"`
	Seq      int          `json:"seq"`
	Kind     string       `json:"kind"`
	Step     int          `json:"step"`
	Time     time.Time    `json:"time"`
	Thinking string       `json:"thinking,omitempty"`
	Action   *cpv1.Action `json:"action,omitempty"`
	Message  string       `json:"message,omitempty"`
	Error    string       `json:"error,omitempty"`
	App      string       `json:"current_app,omitempty"`
	// ScreenshotSHA256 references the observation's screenshot.
	ScreenshotSHA256 string   `json:"screenshot_sha256,omitempty"`
	Timings          *Timings `json:"timings,omitempty"`
	Result           *Result  `json:"result,omitempty"`
	// Observation is the step's observation, for subscribers that store
	// screenshots; it is not serialized.
	Observation *cpv1.Observation `json:"-"`
}

// Planners plans with the planner plugin of a name (pluginhost.Host).
type Planners interface {
	Plan(ctx context.Context, name string, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error)
}

// capabilities is implemented by Planners that can say what a planner
// declares (pluginhost.Host does).
type capabilities interface {
	Capabilities(name string) []string
}

// Models runs inference on the model plugin of a name (pluginhost.Host).
type Models interface {
	Infer(ctx context.Context, name string, req *cpv1.InferRequest, emit func(*cpv1.InferChunk) error) error
}

// Device is the leased device the task runs on.
type Device interface {
	Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error)
	Act(ctx context.Context, action *cpv1.Action) (*cpv1.ActResponse, error)
}

// Gate decides on actions that need a person. Implementations block until
// the person answers or ctx ends.
type Gate interface {
	// Confirm is asked before a sensitive action; false skips the action
	// and ends the task.
	Confirm(ctx context.Context, taskID string, a *cpv1.Action) (bool, error)
	// TakeOver hands the phone to a person and returns when they are done.
	TakeOver(ctx context.Context, taskID, message string) error
}
