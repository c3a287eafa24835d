package tasks

import (
	"errors"
	"fmt"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/store"
)

// State is where a task is in its life (the store's).
type State = store.State

// States of a task. The last four are final.
const (
	StateQueued      = store.StateQueued
	StateRunning     = store.StateRunning
	StatePaused      = store.StatePaused
	StateSucceeded   = store.StateSucceeded
	StateFailed      = store.StateFailed
	StateCanceled    = store.StateCanceled
	StateInterrupted = store.StateInterrupted
)

// Reasons a task failed or was interrupted (Task.Reason).
const (
	ReasonDeadline    = "deadline_exceeded"
	ReasonStepLimit   = "step_limit"
	ReasonFailed      = "task_failed"
	ReasonDeviceLost  = "device_lost"
	ReasonInterrupted = "interrupted"
	ReasonStopped     = "server_stopped"
	ReasonNoDevice    = "no_device"
	ReasonDenied      = "denied"
	ReasonError       = "error"
)

// Request is one submission.
type Request struct {
	Instruction string
	// DeviceID asks for one device ("<backend>/<id>" or an id).
	DeviceID string
	// Deadline, when set, is when the task must be done; zero is a
	// best-effort task that admission never rejects.
	Deadline time.Time
	Tenant   string
	// Planner is a planner plugin name (default the service's).
	Planner string
	// Model is the model plugin a planner infers with (optional).
	Model    string
	Priority int
	MaxSteps int
	// IdempotencyKey makes a resubmission with the same key (and tenant)
	// return the task the first one created.
	IdempotencyKey string
	// CreatedBy is the subject that submitted it (audit, listing).
	CreatedBy string
}

// Task is the durable record of one task (the store's): its JSON is what
// the API serves.
type Task = store.Task

// Service event kinds, beside the agent's (agent.EventStep, …).
const (
	// EventStarted: a device was leased and the agent starts.
	EventStarted = "started"
	// EventState: the task's state changed outside the agent (paused by
	// the API, canceled while queued).
	EventState = "state"
)

// Event is one recorded event of a task: an agent event with the service's
// sequence number and, on service events, the state. The last event of
// every task is agent.EventFinished with State set to the final state.
type Event struct {
	agent.Event
	State  State  `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
	Device string `json:"device,omitempty"`
}

// Filter selects tasks for List.
type Filter struct {
	Tenant string
	State  State
	// Cursor continues a listing (ListResult.Next).
	Cursor string
	// Limit bounds the page (default 50, at most 500).
	Limit int
}

// Errors of the service; the API maps them onto statuses.
var (
	// ErrNotFound: no such task (or not the caller's tenant's).
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the task is not in a state that allows the call
	// (cancel of a finished task, confirm of a task that is not paused).
	ErrConflict = store.ErrConflict
	// ErrInvalid: the request is malformed.
	ErrInvalid = errors.New("invalid task request")
	// ErrClosed: the service is stopping.
	ErrClosed = errors.New("task service closed")
)

// RejectError is a submission the scheduler refused. Status is 422 (the
// deadline cannot be met) or 429 (queue full, tenant quota).
type RejectError struct {
	Status int
	// Code is a short machine-readable reason: deadline_unmeetable,
	// queue_full, tenant_quota.
	Code   string
	Reason string
	// Estimate is the scheduler's estimate of the task's completion time
	// from now, when it has one.
	Estimate time.Duration
	// TaskID is the stored task, now final (failed, reason Code).
	TaskID string
}

func (e *RejectError) Error() string {
	if e.Estimate > 0 {
		return fmt.Sprintf("task rejected (%s): %s (estimate %s)", e.Code, e.Reason, e.Estimate.Round(time.Millisecond))
	}
	return fmt.Sprintf("task rejected (%s): %s", e.Code, e.Reason)
}
