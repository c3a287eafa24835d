package store

import (
	"context"
	"database/sql"
	"fmt"
)

// op is one queued write. fn runs inside the batch's transaction, in its
// own savepoint, on the writer goroutine: it must not call the Store.
type op struct {
	ctx  context.Context
	what string
	fn   func(tx *sql.Tx) error
	// after, if set, runs on the writer goroutine once the write is
	// committed, before its caller is answered (cache write-through).
	after func()
	done  chan error
}

// write queues fn and waits until the transaction that ran it committed
// (nil) or failed. Once queued, a write is waited for even if ctx ends, so
// that nil always means durable and an error always means not applied; a
// ctx that ends before the write runs skips it.
func (s *Store) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return s.writeThen(ctx, what, fn, nil)
}

// writeThen is write with a function run after the commit (see op.after).
func (s *Store) writeThen(ctx context.Context, what string, fn func(tx *sql.Tx) error, after func()) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	o := &op{ctx: ctx, what: what, fn: fn, after: after, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.mu.RUnlock()
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	s.mu.RUnlock()
	return <-o.done
}

// runWriter is the writer goroutine: it takes the first queued write, then
// every write queued behind it (up to MaxBatch), runs them in one
// transaction and commits once (one fsync for the batch: group commit).
// Writes queued while a commit is in progress form the next batch.
func (s *Store) runWriter() {
	defer close(s.wdone)
	batch := make([]*op, 0, s.opts.MaxBatch)
	for {
		o, ok := <-s.ops
		if !ok {
			return
		}
		batch = append(batch[:0], o)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill // commit this batch; the next receive sees the close
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit runs a batch in one transaction. Each write runs in a savepoint,
// so one failing write (a constraint, a lost compare-and-set) is rolled
// back alone and the others commit.
func (s *Store) commit(batch []*op) {
	errs := make([]error, len(batch))
	fail := func(err error) {
		for i, o := range batch {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("%s: %w", o.what, err)
			}
			o.done <- errs[i]
		}
	}
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	single := len(batch) == 1
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			errs[i] = fmt.Errorf("%s: %w", o.what, err)
			continue
		}
		if single {
			errs[i] = runOp(o, tx)
			continue
		}
		if _, err := s.txExec(tx, qSavepoint); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		errs[i] = runOp(o, tx)
		if errs[i] != nil {
			if _, err := s.txExec(tx, qRollbackTo); err != nil {
				_ = tx.Rollback()
				fail(fmt.Errorf("rollback to savepoint: %w", err))
				return
			}
		}
		if _, err := s.txExec(tx, qRelease); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if single && errs[0] != nil {
		_ = tx.Rollback()
		batch[0].done <- errs[0]
		return
	}
	// Screenshots the batch's events reference must be durable first.
	if err := s.dirty.sync(); err != nil {
		_ = tx.Rollback()
		for i := range errs {
			errs[i] = nil
		}
		fail(err)
		return
	}
	// The commit below makes every write whose error is nil durable.
	if err := tx.Commit(); err != nil {
		s.log.Error("store commit failed", "writes", len(batch), "error", err)
		for i := range errs {
			errs[i] = nil // every write of the batch failed, whatever it said
		}
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	for i, o := range batch {
		if errs[i] == nil && o.after != nil {
			o.after()
		}
		o.done <- errs[i]
	}
}

// runOp runs one write's function, turning a panic (in a caller's
// UpdateTask function, say) into that write's error so that the writer
// goroutine, and every other caller, goes on.
func runOp(o *op, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: panic: %v", o.what, r)
		}
	}()
	return o.fn(tx)
}

// Hot writer statements, prepared once at Open on the writer's connection
// (parsing is a quarter of the writer's CPU otherwise). Other writes run
// unprepared.
const (
	qSavepoint  = "SAVEPOINT w"
	qRollbackTo = "ROLLBACK TO w"
	qRelease    = "RELEASE w"
	qTaskByID   = "SELECT " + taskCols + " FROM tasks WHERE id = ?"
	qInsertTask = `INSERT INTO tasks (id, tenant, instruction, device_id, planner, model, priority, max_steps,
			deadline, created_by, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`
	qUpdateTask = `UPDATE tasks SET state = ?, reason = ?, message = ?, device = ?, degraded = ?, steps = ?,
			started_at = ?, finished_at = ?, updated_at = ?, node_id = ?, attempt = ? WHERE id = ?`
	qNextEventSeq = "SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE task_id = ?"
	qInsertEvent  = `INSERT INTO events (task_id, seq, kind, step, time, body, screenshot)
			SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ?)
			ON CONFLICT (task_id, seq) DO NOTHING`
	qUpdateSteps = "UPDATE tasks SET steps = MAX(steps, ?) WHERE id = ?"
	qAuditHead   = "SELECT seq, hash FROM audit_head WHERE id = 1"
	qInsertAudit = `INSERT INTO audit_log (seq, time, actor, tenant, role, action, target, result, details, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertAuditHead = `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`
)

// prepareWriter prepares the hot writer statements. Called by Open before
// the writer goroutine starts (the writer's one connection is free then).
func (s *Store) prepareWriter(ctx context.Context) error {
	for _, q := range []string{qSavepoint, qRollbackTo, qRelease, qTaskByID, qInsertTask, qUpdateTask,
		qNextEventSeq, qInsertEvent, qUpdateSteps, qAuditHead, qInsertAudit, qUpsertAuditHead} {
		st, err := s.wdb.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.wprep[q] = st
	}
	return nil
}

// txExec is tx.Exec, through the prepared statement when query is one.
func (s *Store) txExec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.wprep[query]; ok {
		return tx.Stmt(st).Exec(args...)
	}
	return tx.Exec(query, args...)
}

// txQueryRow is tx.QueryRow, through the prepared statement when query is
// one.
func (s *Store) txQueryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if st, ok := s.wprep[query]; ok {
		return tx.Stmt(st).QueryRow(args...)
	}
	return tx.QueryRow(query, args...)
}
