package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PluginEvent is one entry of the plugin history: a load, a reload, an
// unload or a failed attempt.
type PluginEvent struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Name    string    `json:"name"`
	Version string    `json:"version,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
	// Action is what happened: "load", "reload", "unload", "reject", ….
	Action string `json:"action"`
	// Error is why the action failed ("" when it succeeded).
	Error string `json:"error,omitempty"`
}

// AppendPluginEvent records e and returns it with Seq (and Time, when
// unset) filled in.
func (s *Store) AppendPluginEvent(ctx context.Context, e PluginEvent) (PluginEvent, error) {
	what := fmt.Sprintf("append plugin event %s %s", e.Action, e.Name)
	if e.Name == "" || e.Action == "" {
		return PluginEvent{}, fmt.Errorf("%s: %w: name and action are required", what, ErrInvalid)
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	err := s.write(ctx, what, func(tx *sql.Tx) error {
		res, err := s.txExec(tx, "INSERT INTO plugin_history (time, name, version, sha256, action, error) VALUES (?, ?, ?, ?, ?, ?)",
			nanos(e.Time), e.Name, e.Version, e.SHA256, e.Action, e.Error)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		e.Seq, err = res.LastInsertId()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return PluginEvent{}, err
	}
	return e, nil
}

// PluginHistory returns the newest limit entries (0: 100) of the plugin
// name ("" for every plugin), newest first.
func (s *Store) PluginHistory(ctx context.Context, name string, limit int) ([]PluginEvent, error) {
	what := "plugin history " + name
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, time, name, version, sha256, action, error FROM plugin_history
		WHERE ? = '' OR name = ? ORDER BY seq DESC LIMIT ?`, name, name, limit)
	if err != nil {
		return nil, s.readErr(what, err)
	}
	defer rows.Close()
	var out []PluginEvent
	for rows.Next() {
		var e PluginEvent
		var t int64
		if err := rows.Scan(&e.Seq, &t, &e.Name, &e.Version, &e.SHA256, &e.Action, &e.Error); err != nil {
			return nil, s.readErr(what, err)
		}
		e.Time = fromNanos(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(what, err)
	}
	return out, nil
}
