package tasks

import "github.com/openautoglm/cloudphone/core/agent"

// Observer is told what the service does, for metrics (*metrics.Metrics
// is one). Its methods must be cheap and must not block.
type Observer interface {
	// TaskTransition: a task moved from one state to another ("" for a
	// new task).
	TaskTransition(from, to string)
	// ObserveEvent sees every agent event of every task.
	ObserveEvent(ev agent.Event)
	// AdmissionRejected: the scheduler refused a task (reason: its code).
	AdmissionRejected(reason string)
	// DeadlineMissed: a task with a deadline ended after it.
	DeadlineMissed()
	// SetTasks sets the number of tasks in a live state (after recovery).
	SetTasks(state string, n int)
}

// lifecycle is an Observer that also follows each run (tracing:
// telemetry.Chained is one): told when a task got its device, and how it
// ended.
type lifecycle interface {
	TaskStarted(id, tenant, device, planner string)
	TaskEnded(id, state, reason, message string)
}

// noObserver observes nothing.
type noObserver struct{}

func (noObserver) TaskTransition(string, string) {}
func (noObserver) ObserveEvent(agent.Event)      {}
func (noObserver) AdmissionRejected(string)      {}
func (noObserver) DeadlineMissed()               {}
func (noObserver) SetTasks(string, int)          {}

// moved tells the observer of a transition that happened.
func (s *Service) moved(from, to State) {
	if from != to {
		s.obs.TaskTransition(string(from), string(to))
	}
}
