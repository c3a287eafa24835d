package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where a task is in its life.
type State string

// States of a task. The last four are final: a task never leaves them.
const (
	StateQueued      State = "queued"
	StateRunning     State = "running"
	StatePaused      State = "paused"
	StateSucceeded   State = "succeeded"
	StateFailed      State = "failed"
	StateCanceled    State = "canceled"
	StateInterrupted State = "interrupted"
)

// Final reports whether s is a final state.
func (s State) Final() bool {
	switch s {
	case StateSucceeded, StateFailed, StateCanceled, StateInterrupted:
		return true
	}
	return false
}

// Valid reports whether s names a state.
func (s State) Valid() bool {
	switch s {
	case StateQueued, StateRunning, StatePaused:
		return true
	}
	return s.Final()
}

// CanMove reports whether a task may go from s to to: any non-final state
// may go to any other state; a final state goes nowhere.
func (s State) CanMove(to State) bool {
	return s.Valid() && to.Valid() && !s.Final() && s != to
}

// ReasonInterrupted is the reason recorded on a task that was running or
// paused when the server stopped and is not resumed (MarkInterrupted).
const ReasonInterrupted = "interrupted: the server stopped while the task ran"

// Task is the durable record of one task. ID, Tenant, Instruction,
// DeviceID, Planner, Model, Priority, MaxSteps, Deadline, CreatedBy and
// CreatedAt are set at creation and never change; the rest change through
// UpdateTask and UpdateState.
type Task struct {
	ID          string    `json:"task_id"`
	Tenant      string    `json:"tenant"`
	Instruction string    `json:"instruction"`
	DeviceID    string    `json:"device_id,omitempty"` // requested device, if any
	Planner     string    `json:"planner,omitempty"`
	Model       string    `json:"model,omitempty"`
	Priority    int       `json:"priority"`
	MaxSteps    int       `json:"max_steps,omitempty"`
	Deadline    time.Time `json:"deadline,omitzero"`
	CreatedBy   string    `json:"created_by,omitempty"`
	State       State     `json:"state"`
	// Reason is a short cause of a failed, canceled or interrupted task.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Device is the assigned (leased) device once running.
	Device   string `json:"device,omitempty"`
	Degraded bool   `json:"degraded,omitempty"`
	// Steps is the number of completed steps (the highest Step of the
	// task's EventStep events, or more when UpdateTask sets it).
	Steps      int       `json:"steps"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	// NodeID is the node that last started the task (clusters).
	NodeID string `json:"node_id,omitempty"`
	// Attempt counts the times the task went to running from another
	// state than paused (1 on its first run).
	Attempt int `json:"attempt,omitempty"`
}

// TaskFilter selects tasks for ListTasks. Zero fields select everything.
type TaskFilter struct {
	Tenant string
	// States, when set, keeps tasks in one of them.
	States []State
	// Since keeps tasks created at or after it.
	Since time.Time
	// Cursor continues a listing (the next cursor ListTasks returned).
	Cursor string
	// Limit bounds the page (default 50, at most 1000).
	Limit int
}

const taskCols = `id, tenant, instruction, device_id, planner, model, priority, max_steps, deadline, created_by,
	state, reason, message, device, degraded, steps, created_at, started_at, finished_at, updated_at, node_id, attempt`

type scanner interface{ Scan(dest ...any) error }

func scanTask(r scanner, seq *int64) (Task, error) {
	var t Task
	var deadline, created, started, finished, updated int64
	dest := []any{&t.ID, &t.Tenant, &t.Instruction, &t.DeviceID, &t.Planner, &t.Model, &t.Priority, &t.MaxSteps,
		&deadline, &t.CreatedBy, &t.State, &t.Reason, &t.Message, &t.Device, &t.Degraded, &t.Steps,
		&created, &started, &finished, &updated, &t.NodeID, &t.Attempt}
	if seq != nil {
		dest = append(dest, seq)
	}
	if err := r.Scan(dest...); err != nil {
		return Task{}, err
	}
	t.Deadline, t.CreatedAt, t.StartedAt = fromNanos(deadline), fromNanos(created), fromNanos(started)
	t.FinishedAt, t.UpdatedAt = fromNanos(finished), fromNanos(updated)
	return t, nil
}

// CreateTask stores t as a new queued task and returns it with created
// true. When a task with t.ID exists already it is returned unchanged with
// created false (idempotent create: a retried submission makes no
// duplicate). t.ID and t.Instruction are required; t.State must be empty
// or queued; CreatedAt defaults to now.
func (s *Store) CreateTask(ctx context.Context, t Task) (Task, bool, error) {
	what := "create task " + t.ID
	switch {
	case t.ID == "":
		return Task{}, false, fmt.Errorf("create task: %w: empty id", ErrInvalid)
	case t.Instruction == "":
		return Task{}, false, fmt.Errorf("%s: %w: empty instruction", what, ErrInvalid)
	case t.State != "" && t.State != StateQueued:
		return Task{}, false, fmt.Errorf("%s: %w: a new task is queued, not %q", what, ErrInvalid, t.State)
	}
	now := s.now().UTC()
	t.State = StateQueued
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	t.CreatedAt, t.Deadline = t.CreatedAt.UTC(), t.Deadline.UTC()
	t.UpdatedAt = now
	t.Reason, t.Message, t.Device, t.Degraded, t.Steps = "", "", "", false, 0
	t.StartedAt, t.FinishedAt, t.NodeID, t.Attempt = time.Time{}, time.Time{}, "", 0
	var stored Task
	created := false
	err := s.writeThen(ctx, what, func(tx *sql.Tx) error {
		res, err := s.txExec(tx, qInsertTask,
			t.ID, t.Tenant, t.Instruction, t.DeviceID, t.Planner, t.Model, t.Priority, t.MaxSteps,
			nanos(t.Deadline), t.CreatedBy, t.State, nanos(t.CreatedAt), nanos(t.UpdatedAt))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			stored, created = t, true
			return nil
		}
		stored, err = scanTask(s.txQueryRow(tx, qTaskByID, t.ID), nil)
		if err != nil {
			return fmt.Errorf("%s: read the existing task: %w", what, err)
		}
		return nil
	}, func() { s.tasks.set(stored) })
	if err != nil {
		return Task{}, false, err
	}
	return stored, created, nil
}

// Task returns the task with id, or an error wrapping ErrNotFound.
func (s *Store) Task(ctx context.Context, id string) (Task, error) {
	if s.isClosed() {
		return Task{}, fmt.Errorf("get task %s: %w", id, ErrClosed)
	}
	if t, ok := s.tasks.get(id); ok {
		return t, nil
	}
	t, err := scanTask(s.getTaskStmt.QueryRowContext(ctx, id), nil)
	if err != nil {
		return Task{}, s.readErr("get task "+id, err)
	}
	return t, nil
}

// ListTasks returns a page of tasks matching f, newest first (a stable
// order: creation order, ties impossible), and the cursor of the next page
// ("" when this is the last).
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) ([]Task, string, error) {
	if s.isClosed() {
		return nil, "", fmt.Errorf("list tasks: %w", ErrClosed)
	}
	var where []string
	var args []any
	if f.Tenant != "" {
		where, args = append(where, "tenant = ?"), append(args, f.Tenant)
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, st := range f.States {
			if !st.Valid() {
				return nil, "", fmt.Errorf("list tasks: %w: unknown state %q", ErrInvalid, st)
			}
			marks[i], args = "?", append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, f.Since.UnixNano())
	}
	if f.Cursor != "" {
		c, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || c <= 0 {
			return nil, "", fmt.Errorf("list tasks: %w: bad cursor %q", ErrInvalid, f.Cursor)
		}
		where, args = append(where, "seq < ?"), append(args, c)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	q := "SELECT " + taskCols + ", seq FROM tasks"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", s.readErr("list tasks", err)
	}
	defer rows.Close()
	var out []Task
	var seqs []int64
	for rows.Next() {
		var seq int64
		t, err := scanTask(rows, &seq)
		if err != nil {
			return nil, "", s.readErr("list tasks", err)
		}
		out, seqs = append(out, t), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.readErr("list tasks", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(seqs[limit-1], 10)
	}
	return out, next, nil
}

// UpdateTask is a compare-and-set: if the task's state is one of from, it
// applies fn to the task and stores the result, all in one write, and
// returns the updated task. If the state is not one of from the error
// wraps ErrConflict (ErrNotFound when there is no such task), so two
// callers can never both move a task to running. fn runs on the store's
// writer goroutine: it must be quick and must not call the store; an
// error from fn aborts the update. fn may change State (the move must be
// allowed by State.CanMove), Reason, Message, Device, Degraded, Steps,
// StartedAt, FinishedAt, NodeID and Attempt; other fields are ignored.
// Entering running from another state than paused sets StartedAt (when fn
// left it unchanged), NodeID (Options.NodeID, when fn left it unchanged)
// and increments Attempt; entering a final state sets FinishedAt (when
// unset).
func (s *Store) UpdateTask(ctx context.Context, id string, from []State, fn func(*Task) error) (Task, error) {
	what := "update task " + id
	var out Task
	err := s.writeThen(ctx, what, func(tx *sql.Tx) error {
		cur, err := scanTask(s.txQueryRow(tx, qTaskByID, id), nil)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !stateIn(cur.State, from) {
			return fmt.Errorf("%s: %w: state is %s, want %s", what, ErrConflict, cur.State, statesString(from))
		}
		next := cur
		if fn != nil {
			if err := fn(&next); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if next.State != cur.State {
			if !cur.State.CanMove(next.State) {
				return fmt.Errorf("%s: %w: cannot move from %s to %q", what, ErrInvalid, cur.State, next.State)
			}
			now := s.now().UTC()
			if next.State == StateRunning && cur.State != StatePaused {
				next.Attempt++
				if next.StartedAt.Equal(cur.StartedAt) {
					next.StartedAt = now
				}
				if next.NodeID == cur.NodeID && s.opts.NodeID != "" {
					next.NodeID = s.opts.NodeID
				}
			}
			if next.State.Final() && next.FinishedAt.IsZero() {
				next.FinishedAt = now
			}
		}
		next.UpdatedAt = s.now().UTC()
		_, err = s.txExec(tx, qUpdateTask,
			next.State, next.Reason, next.Message, next.Device, next.Degraded, next.Steps,
			nanos(next.StartedAt), nanos(next.FinishedAt), nanos(next.UpdatedAt), next.NodeID, next.Attempt, id)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		cur.State, cur.Reason, cur.Message, cur.Device, cur.Degraded, cur.Steps = next.State, next.Reason, next.Message, next.Device, next.Degraded, next.Steps
		cur.StartedAt, cur.FinishedAt, cur.UpdatedAt, cur.NodeID, cur.Attempt = next.StartedAt.UTC(), next.FinishedAt.UTC(), next.UpdatedAt, next.NodeID, next.Attempt
		out = cur
		return nil
	}, func() { s.tasks.set(out) })
	if err != nil {
		return Task{}, err
	}
	return out, nil
}

// UpdateState moves the task from state from to state to (compare-and-set,
// see UpdateTask): it fails with ErrConflict if the task is not in from.
// A move State.CanMove refuses (from a final state, to the same state, to
// an unknown one) is an error wrapping ErrInvalid.
func (s *Store) UpdateState(ctx context.Context, id string, from, to State) (Task, error) {
	if !from.CanMove(to) {
		return Task{}, fmt.Errorf("update task %s: %w: cannot move from %q to %q", id, ErrInvalid, from, to)
	}
	return s.UpdateTask(ctx, id, []State{from}, func(t *Task) error {
		t.State = to
		return nil
	})
}

// MarkInterrupted ends a task left running or paused by a stopped server:
// state interrupted, reason ReasonInterrupted.
func (s *Store) MarkInterrupted(ctx context.Context, id string) (Task, error) {
	return s.UpdateTask(ctx, id, []State{StateRunning, StatePaused}, func(t *Task) error {
		t.State, t.Reason = StateInterrupted, ReasonInterrupted
		return nil
	})
}

func stateIn(s State, set []State) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}

func statesString(set []State) string {
	parts := make([]string, len(set))
	for i, s := range set {
		parts[i] = string(s)
	}
	return strings.Join(parts, " or ")
}
