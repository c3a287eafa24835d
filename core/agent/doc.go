// Package agent runs one task: the observe → plan → act loop of DESIGN §2.
//
// Run observes the leased device, asks the task's planner for the next step,
// runs inference when the planner asks for it (and plans again with the
// output), performs the action, waits for the screen to settle (by watching
// the UI hierarchy change and then hold still — never a fixed sleep), records
// the step and repeats, until the planner finishes, the step limit or the
// deadline is reached, or the task is canceled. Sensitive actions are held
// for a Gate's decision; Take_over pauses the task until a person resumes
// it. Every step is reported as Events while it happens.
//
// What it is not: it does not choose devices (the pool does), order tasks
// (the scheduler does) or store anything (the caller subscribes to Events).
// Planners, models and devices are reached through the small interfaces
// below, which the plugin host satisfies, so a planner swapped between two
// steps is used from the next step on.
package agent
