package store

import (
	"context"
	"fmt"
)

// Recovery is what a node finds in the store when it starts.
type Recovery struct {
	// Queued are tasks that never started: submit them to the scheduler
	// again. Oldest first.
	Queued []Task
	// Unfinished are tasks that were running or paused when the server
	// stopped. For each, the caller either resumes it after its last
	// completed step or ends it with MarkInterrupted. Oldest first.
	Unfinished []Unfinished
}

// Unfinished is a task left running or paused, with what a resume needs.
type Unfinished struct {
	Task Task
	// LastStep is the last completed step (the highest Step of its
	// KindStep events; 0: none completed). A resume starts at LastStep+1.
	LastStep int
	// Events are all the task's recorded events in Seq order (the history
	// a resumed agent replays); the last one's Seq is where new events
	// continue.
	Events []Event
}

// Recover lists the tasks a starting node must deal with: those queued and
// those left running or paused, on nodeID or on no node (single-node
// stores record no node). It changes nothing; a task is moved on only by
// the caller's compare-and-set (UpdateTask, MarkInterrupted), so a task is
// never taken twice even if two nodes recover at once.
func (s *Store) Recover(ctx context.Context, nodeID string) (Recovery, error) {
	var r Recovery
	if s.isClosed() {
		return r, fmt.Errorf("recover: %w", ErrClosed)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+taskCols+` FROM tasks
		WHERE state IN ('queued', 'running', 'paused') AND (node_id = '' OR node_id = ?) ORDER BY seq`, nodeID)
	if err != nil {
		return r, s.readErr("recover", err)
	}
	var unfinished []Task
	for rows.Next() {
		t, err := scanTask(rows, nil)
		if err != nil {
			rows.Close()
			return r, s.readErr("recover", err)
		}
		if t.State == StateQueued {
			r.Queued = append(r.Queued, t)
		} else {
			unfinished = append(unfinished, t)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return r, s.readErr("recover", err)
	}
	for _, t := range unfinished {
		evs, err := s.Events(ctx, t.ID, 0, 0)
		if err != nil {
			return r, fmt.Errorf("recover: %w", err)
		}
		u := Unfinished{Task: t, Events: evs}
		for _, ev := range evs {
			if ev.Kind == KindStep && ev.Step > u.LastStep {
				u.LastStep = ev.Step
			}
		}
		r.Unfinished = append(r.Unfinished, u)
	}
	return r, nil
}
