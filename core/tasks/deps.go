package tasks

import (
	"context"
	"time"

	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/store"
)

// Store is the durable side of the service (*store.Store).
type Store interface {
	CreateTask(ctx context.Context, t store.Task) (store.Task, bool, error)
	Task(ctx context.Context, id string) (store.Task, error)
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, string, error)
	UpdateTask(ctx context.Context, id string, from []store.State, fn func(*store.Task) error) (store.Task, error)
	AppendEvent(ctx context.Context, ev store.Event) (store.Event, error)
	Events(ctx context.Context, taskID string, after, limit int) ([]store.Event, error)
	LastSeq(ctx context.Context, taskID string) (int, error)
	Screenshot(ctx context.Context, sha string) ([]byte, error)
	ScreenshotVisible(ctx context.Context, sha, tenant string) (bool, error)
	Recover(ctx context.Context, nodeID string) (store.Recovery, error)
}

// Scheduler admits tasks and dispatches them onto leased devices through
// the Service's Dispatch (*sched.Scheduler).
type Scheduler interface {
	Submit(t sched.Task) error
	Cancel(id string) error
	Report(id string, steps int, elapsed time.Duration, o sched.Outcome) error
	// Progress: a running task did steps; a planner and model to move to
	// when it is now predicted to miss its deadline.
	Progress(id string, steps int) (planner, model string, degrade bool)
}

var (
	_ Store     = (*store.Store)(nil)
	_ Scheduler = (*sched.Scheduler)(nil)
)
