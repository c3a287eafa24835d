package sched

import (
	"errors"
	"fmt"
	"time"
)

// DefaultEstSteps is the step estimate of a task that gives none.
const DefaultEstSteps = 10

// Task is what Submit admits: one instruction to run on one device.
type Task struct {
	ID     string
	Tenant string // default pool.DefaultTenant
	// Deadline is when the task must have finished; zero makes it
	// best-effort: never refused for time, ordered after deadline tasks.
	Deadline time.Time
	// Priority orders tasks of equal deadline (and best-effort tasks):
	// higher first.
	Priority int
	// Planner and Model are plugin names the task asks for.
	Planner string
	Model   string
	// Labels, Tolerations and DeviceID go to the pool's Request.
	Labels      map[string]string
	Tolerations []string
	DeviceID    string
	// EstSteps is the number of steps the task is expected to take
	// (DefaultEstSteps when 0).
	EstSteps int
	// Period is the release period of a recurring task; rate-monotonic
	// ordering ranks by it. Zero for a one-off task.
	Period time.Duration
	// Submitted is set by Submit from the scheduler's clock when zero.
	Submitted time.Time
}

// BestEffort reports whether t has no deadline.
func (t *Task) BestEffort() bool { return t.Deadline.IsZero() }

func (t *Task) steps() int {
	if t.EstSteps > 0 {
		return t.EstSteps
	}
	return DefaultEstSteps
}

// Dispatched is a task handed to the RunFunc with its device.
type Dispatched struct {
	Task Task
	// Planner and Model are what the task must run with: the task's own,
	// or sched.degrade_planner / sched.degrade_model when Degraded.
	Planner string
	Model   string
	// Degraded says the task was moved to the cheaper tier because it
	// was predicted to miss its deadline; Reason says why.
	Degraded bool
	Reason   string
	// Started is when it was dispatched; Predicted is when it is
	// predicted to finish.
	Started   time.Time
	Predicted time.Time
}

// Outcome is how a dispatched task ended, for Report.
type Outcome int

const (
	// Succeeded: the task finished.
	Succeeded Outcome = iota
	// Failed: the task ended with an error (its step times still count).
	Failed
	// Canceled: the task was canceled; its step times do not count.
	Canceled
)

func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Errors callers may test for with errors.Is.
var (
	// ErrQueueFull: sched.max_queued tasks wait already (HTTP 429).
	ErrQueueFull = errors.New("scheduler queue full")
	// ErrTenantQuota: the tenant's sched.tenants.<t>.max_queued is
	// reached (HTTP 429).
	ErrTenantQuota = errors.New("tenant queue quota")
	// ErrDeadline is wrapped by a *RejectError: the deadline cannot be
	// met under the current load.
	ErrDeadline = errors.New("deadline cannot be met")
	// ErrDuplicate: a task with this id is queued or running already.
	ErrDuplicate = errors.New("task already scheduled")
	// ErrUnknown: Report or Cancel named a task the scheduler does not
	// hold.
	ErrUnknown = errors.New("unknown task")
	// ErrInvalid: the task cannot be scheduled as given.
	ErrInvalid = errors.New("invalid task")
)

// RejectError is Submit's refusal of a task whose deadline cannot be met.
type RejectError struct {
	TaskID   string
	Deadline time.Time
	// Estimate is the predicted finish: now + Wait + Run.
	Estimate time.Time
	// Wait is the predicted time in the queue; Run the predicted run time
	// (estimated steps × learned step time) on the tier it would use.
	Wait time.Duration
	Run  time.Duration
	// Reason is a sentence for a person.
	Reason string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("task %s rejected: %s", e.TaskID, e.Reason)
}

// Unwrap makes errors.Is(err, ErrDeadline) hold.
func (e *RejectError) Unwrap() error { return ErrDeadline }
