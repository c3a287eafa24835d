// Package tasks is cloudphone's task service: the life of a submitted
// instruction from the API to its final state (DESIGN §2).
//
// Submit stores the task durably (an idempotency key makes a resubmission
// return the same task), asks the scheduler to admit it (a rejection carries
// the reason and the estimate: 422 for a deadline that cannot be met, 429
// for a full queue or a tenant quota), and, when the scheduler dispatches it
// onto a leased device, runs it with agent.Runner. Every agent event is
// recorded in the store (screenshots by hash) and wakes the task's live
// subscribers, so a stream can start from the first event and never miss
// one. Sensitive actions and take-overs park the task (state paused, lease
// kept) through the Service's agent.Gate until Confirm/Resume answers.
//
// States: queued → running ⇄ paused → succeeded | failed | canceled |
// interrupted. Every transition is a compare-and-set in the store, so a task
// never runs twice: after a crash, Recover re-submits queued tasks and marks
// tasks that were running or paused interrupted (reason "interrupted"), with
// a final event.
//
// What it is not: it does not order tasks or pick devices (the scheduler and
// the pool do), and it holds no HTTP code (core/api serves it). The store and
// the scheduler are reached through the small interfaces Store and
// Scheduler defined here.
//
// Main types: Service, Request, Task, Event, State.
//
// Locking: Service.mu guards the map of running tasks; a run's own mutex
// guards its gate; neither is held across a store or scheduler call.
package tasks
