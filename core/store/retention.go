package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PruneStats is what one Prune removed.
type PruneStats struct {
	// Events is the number of event rows deleted.
	Events int64
	// Screenshots is the number of screenshot files deleted.
	Screenshots int
}

// pruneChunk bounds the tasks whose events one write deletes, so that a
// large prune never holds the writer for long.
const pruneChunk = 200

// orphanGrace is how old an unreferenced screenshot file must be before
// Prune deletes it: a file is written just before the event that references
// it is committed.
const orphanGrace = 10 * time.Minute

// Prune deletes, as of now, the events (steps) of tasks that finished more
// than Options.StepRetention ago, and the screenshot files that are
// referenced by no event (and older than a grace period) or were last kept
// more than Options.ScreenshotRetention ago. A zero retention keeps that
// kind forever (unreferenced screenshots are still deleted). Task records
// themselves are kept.
func (s *Store) Prune(ctx context.Context, now time.Time) (PruneStats, error) {
	var st PruneStats
	if s.opts.StepRetention > 0 {
		cutoff := now.Add(-s.opts.StepRetention).UnixNano()
		for {
			var n int64
			err := s.write(ctx, "prune events", func(tx *sql.Tx) error {
				res, err := s.txExec(tx, `DELETE FROM events WHERE task_id IN (
					SELECT id FROM tasks WHERE finished_at > 0 AND finished_at < ?
					AND state IN ('succeeded', 'failed', 'canceled', 'interrupted')
					AND EXISTS (SELECT 1 FROM events e WHERE e.task_id = tasks.id) LIMIT ?)`, cutoff, pruneChunk)
				if err != nil {
					return fmt.Errorf("prune events: %w", err)
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return st, err
			}
			st.Events += n
			if n == 0 {
				break
			}
		}
	}
	n, err := s.pruneScreenshots(ctx, now)
	st.Screenshots = n
	return st, err
}

// pruneScreenshots walks the screenshot files and deletes the expired and
// the unreferenced ones.
func (s *Store) pruneScreenshots(ctx context.Context, now time.Time) (int, error) {
	if s.isClosed() {
		return 0, fmt.Errorf("prune screenshots: %w", ErrClosed)
	}
	deleted := 0
	err := filepath.WalkDir(s.shots, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		age := shotAge(info, now)
		if strings.HasPrefix(name, ".tmp-") { // left by a crash mid-write
			if age > orphanGrace {
				return removeCounted(path, &deleted)
			}
			return nil
		}
		h := strings.TrimSuffix(name, ".png")
		if !validHash(h) {
			return nil // not ours
		}
		if s.opts.ScreenshotRetention > 0 && age > s.opts.ScreenshotRetention {
			return removeCounted(path, &deleted)
		}
		if age <= orphanGrace {
			return nil
		}
		var one int
		err = s.rdb.QueryRowContext(ctx, "SELECT 1 FROM events WHERE screenshot = ? LIMIT 1", h).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return removeCounted(path, &deleted)
		}
		return err
	})
	if err != nil {
		return deleted, s.readErr("prune screenshots", err)
	}
	return deleted, nil
}

func removeCounted(path string, n *int) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	*n++
	return nil
}

// RunRetention runs Prune now and then every interval until ctx ends, and
// logs what each run removed (and its errors, which do not stop it). A node
// runs it in a goroutine: go st.RunRetention(ctx, time.Hour). It returns
// when ctx ends or the store is closed.
func (s *Store) RunRetention(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("run retention: %w: interval %s", ErrInvalid, interval)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		st, err := s.Prune(ctx, s.now())
		switch {
		case errors.Is(err, ErrClosed):
			return nil
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("store retention", "error", err)
		case st.Events > 0 || st.Screenshots > 0:
			s.log.Info("store retention", "events_deleted", st.Events, "screenshots_deleted", st.Screenshots)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
