package telemetry

import (
	"context"

	"github.com/openautoglm/cloudphone/core/agent"
)

// TaskObserver is what the task service tells its observer (the method
// set of tasks.Observer; *metrics.Metrics is one).
type TaskObserver interface {
	TaskTransition(from, to string)
	ObserveEvent(ev agent.Event)
	AdmissionRejected(reason string)
	DeadlineMissed()
	SetTasks(state string, n int)
}

// Chained is a TaskObserver that traces with a Tracer and forwards every
// call to the next observer (the metrics). It also has the lifecycle
// methods the task service calls when its observer has them: TaskStarted
// when a task got a device, TaskEnded with its final state.
type Chained struct {
	Tracer *Tracer
	Next   TaskObserver // may be nil
}

// Chain returns an observer tracing with t before next. Pass it as
// tasks.Options.Observer.
func Chain(t *Tracer, next TaskObserver) *Chained { return &Chained{Tracer: t, Next: next} }

// TaskTransition forwards to Next.
func (c *Chained) TaskTransition(from, to string) {
	if c.Next != nil {
		c.Next.TaskTransition(from, to)
	}
}

// ObserveEvent traces ev, then forwards it to Next.
func (c *Chained) ObserveEvent(ev agent.Event) {
	c.Tracer.Observe(ev)
	if c.Next != nil {
		c.Next.ObserveEvent(ev)
	}
}

// AdmissionRejected forwards to Next.
func (c *Chained) AdmissionRejected(reason string) {
	if c.Next != nil {
		c.Next.AdmissionRejected(reason)
	}
}

// DeadlineMissed forwards to Next.
func (c *Chained) DeadlineMissed() {
	if c.Next != nil {
		c.Next.DeadlineMissed()
	}
}

// SetTasks forwards to Next.
func (c *Chained) SetTasks(state string, n int) {
	if c.Next != nil {
		c.Next.SetTasks(state, n)
	}
}

// TaskStarted opens the task's span: the task got device and runs with
// planner.
func (c *Chained) TaskStarted(id, tenant, device, planner string) {
	c.Tracer.StartTask(context.Background(), TaskInfo{ID: id, Tenant: tenant, DeviceID: device, Planner: planner})
}

// TaskEnded ends the task's span with its final state; reason and message
// say why it did not succeed.
func (c *Chained) TaskEnded(id, state, reason, message string) {
	if reason != "" && message != "" {
		message = reason + ": " + message
	} else if message == "" {
		message = reason
	}
	c.Tracer.EndTask(id, state, message)
}
