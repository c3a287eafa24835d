package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// KindStep is the event kind of a completed step (agent.EventStep): its
// Step raises the task's step count, and Recover resumes after the last.
const KindStep = "step"

// Event is one recorded event of a task. Body is the event as the task
// service serializes it (JSON); the store reads only Kind and Step.
type Event struct {
	TaskID string
	// Seq numbers a task's events from 1. AppendEvent assigns the next one
	// when Seq is 0.
	Seq  int
	Kind string
	Step int
	Time time.Time
	// Body is the event's JSON ("{}" when empty).
	Body json.RawMessage
	// ScreenshotSHA256 references a screenshot kept by PutScreenshot.
	ScreenshotSHA256 string
	// Screenshot, when set on AppendEvent, is kept with PutScreenshot and
	// ScreenshotSHA256 set to its hash. Never set on events read back.
	Screenshot []byte
}

// AppendEvent records ev and returns it as stored (Seq and Time filled in,
// Screenshot kept). A Seq already taken is an error wrapping ErrConflict;
// a task that does not exist, ErrNotFound. An event of kind KindStep
// raises the task's Steps to ev.Step.
func (s *Store) AppendEvent(ctx context.Context, ev Event) (Event, error) {
	what := fmt.Sprintf("append event %d of task %s", ev.Seq, ev.TaskID)
	switch {
	case ev.TaskID == "":
		return Event{}, fmt.Errorf("append event: %w: empty task id", ErrInvalid)
	case ev.Kind == "":
		return Event{}, fmt.Errorf("%s: %w: empty kind", what, ErrInvalid)
	case ev.Seq < 0:
		return Event{}, fmt.Errorf("%s: %w: negative seq", what, ErrInvalid)
	case len(ev.Body) > 0 && !json.Valid(ev.Body):
		return Event{}, fmt.Errorf("%s: %w: body is not valid JSON", what, ErrInvalid)
	case ev.ScreenshotSHA256 != "" && !validHash(ev.ScreenshotSHA256):
		return Event{}, fmt.Errorf("%s: %w: screenshot hash %q", what, ErrInvalid, ev.ScreenshotSHA256)
	}
	if len(ev.Body) == 0 {
		ev.Body = json.RawMessage("{}")
	}
	if ev.Time.IsZero() {
		ev.Time = s.now()
	}
	ev.Time = ev.Time.UTC()
	if len(ev.Screenshot) > 0 {
		sha, err := s.PutScreenshot(ctx, ev.Screenshot)
		if err != nil {
			return Event{}, fmt.Errorf("%s: %w", what, err)
		}
		ev.ScreenshotSHA256, ev.Screenshot = sha, nil
	}
	var after func()
	if ev.Kind == KindStep {
		after = func() { // the same change as the UPDATE below
			s.tasks.update(ev.TaskID, func(t *Task) { t.Steps = max(t.Steps, ev.Step) })
		}
	}
	err := s.writeThen(ctx, what, func(tx *sql.Tx) error {
		if ev.Seq == 0 {
			if err := s.txQueryRow(tx, qNextEventSeq, ev.TaskID).Scan(&ev.Seq); err != nil {
				return fmt.Errorf("%s: next seq: %w", what, err)
			}
		}
		res, err := s.txExec(tx, qInsertEvent,
			ev.TaskID, ev.Seq, ev.Kind, ev.Step, nanos(ev.Time), string(ev.Body), ev.ScreenshotSHA256, ev.TaskID)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := s.txQueryRow(tx, "SELECT 1 FROM tasks WHERE id = ?", ev.TaskID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s: task %w", what, ErrNotFound)
			}
			return fmt.Errorf("%s: %w: seq %d is taken", what, ErrConflict, ev.Seq)
		}
		if ev.Kind == KindStep {
			if _, err := s.txExec(tx, qUpdateSteps, ev.Step, ev.TaskID); err != nil {
				return fmt.Errorf("%s: step count: %w", what, err)
			}
		}
		return nil
	}, after)
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

const eventCols = "task_id, seq, kind, step, time, body, screenshot"

func scanEvent(r scanner) (Event, error) {
	var ev Event
	var t int64
	var body string
	if err := r.Scan(&ev.TaskID, &ev.Seq, &ev.Kind, &ev.Step, &t, &body, &ev.ScreenshotSHA256); err != nil {
		return Event{}, err
	}
	ev.Time, ev.Body = fromNanos(t), json.RawMessage(body)
	return ev, nil
}

// Events returns the task's events with Seq > after, in Seq order, at most
// limit of them (0: all). A task without events, or an unknown task,
// returns none (callers that must tell them apart read the task).
func (s *Store) Events(ctx context.Context, taskID string, after, limit int) ([]Event, error) {
	what := "events of task " + taskID
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.eventsStmt.QueryContext(ctx, taskID, after, limit)
	if err != nil {
		return nil, s.readErr(what, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, s.readErr(what, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(what, err)
	}
	return out, nil
}

// LastSeq is the Seq of the task's last event (0: none).
func (s *Store) LastSeq(ctx context.Context, taskID string) (int, error) {
	what := "last event of task " + taskID
	if s.isClosed() {
		return 0, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	var seq int
	err := s.lastSeqStmt.QueryRowContext(ctx, taskID).Scan(&seq)
	if err != nil {
		return 0, s.readErr(what, err)
	}
	return seq, nil
}
