package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// Errors of the store. Every error a method returns wraps one of these or
// a lower-level cause, with the operation and its subject named.
var (
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrNotFound: no such task, event, screenshot, device or API key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a compare-and-set failed (the task is not in the
	// expected state) or an event sequence number is taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: bad input (an empty id, an unknown state, a transition
	// out of a final state, a malformed hash, cursor or JSON body).
	ErrInvalid = errors.New("invalid")
	// ErrSchemaTooNew: the database was written by a newer cloudphone.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrRevoked: the API key was revoked.
	ErrRevoked = errors.New("api key revoked")
	// ErrAuditTampered: the audit chain does not verify (see AuditError).
	ErrAuditTampered = errors.New("audit log tampered")
)

// Sync is the durability a commit waits for.
type Sync string

const (
	// SyncFull fsyncs the write-ahead log at every (group) commit: an
	// acknowledged write survives a process kill, an OS crash and a power
	// loss. The default.
	SyncFull Sync = "full"
	// SyncNormal fsyncs only at checkpoints: an acknowledged write survives
	// a process kill (kill -9) but the last commits may be lost on an OS
	// crash or power loss. The database is never corrupted either way.
	SyncNormal Sync = "normal"
)

// Options configure Open. The zero value of every field but Dir is a
// sensible default.
type Options struct {
	// Dir is data.dir: the database is Dir/store.db, screenshots are kept
	// under Dir/screenshots. Created if missing. Default "./data".
	Dir string
	// StepRetention is data.step_retention: Prune deletes the events of
	// tasks finished longer ago. 0 keeps them forever.
	StepRetention time.Duration
	// ScreenshotRetention is data.screenshot_retention: Prune deletes
	// screenshot files last written or referenced longer ago. 0 keeps
	// referenced screenshots forever.
	ScreenshotRetention time.Duration
	// Sync is the commit durability (default SyncFull).
	Sync Sync
	// MaxBatch bounds the writes one group commit takes (default 512).
	// 1 commits every write in its own transaction (the benchmark
	// baseline).
	MaxBatch int
	// BusyTimeout is how long a statement waits for a lock held by another
	// process on the same database (default 5s).
	BusyTimeout time.Duration
	// Readers bounds concurrent read connections (default 2×GOMAXPROCS,
	// at least 4).
	Readers int
	// TaskCache bounds the tasks kept in memory for Task (default 65536;
	// negative: no cache, every Task reads the database). The cache is
	// written through by this Store's writer, so it assumes no other
	// process changes tasks in the same database.
	TaskCache int
	// NodeID is recorded on tasks this node starts (clusters; default "").
	NodeID string
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Store is the durable store of one node. Its methods are safe for
// concurrent use. Writes are group-committed by one writer goroutine;
// reads run concurrently on a pool of read-only connections.
type Store struct {
	opts  Options
	dir   string
	shots string // screenshots directory
	log   *slog.Logger
	now   func() time.Time

	wdb *sql.DB // one connection, used by the writer goroutine (and Open)
	rdb *sql.DB // read-only connections

	// mu guards closed and the send side of ops (held shared while
	// sending, exclusively by Close to close ops).
	mu     sync.RWMutex
	closed bool
	ops    chan *op
	wdone  chan struct{} // closed when the writer goroutine has exited

	touch touches   // throttles API key last-used updates
	dirty dirtyDirs // screenshot directories with renames not yet fsynced
	tasks *taskCache

	// Prepared hot reads on rdb (database/sql prepares each once per
	// connection; parsing is a third of an uncached read's cost).
	getTaskStmt, eventsStmt, lastSeqStmt, apiKeyStmt *sql.Stmt
	// wprep holds the writer's prepared statements (writer goroutine only).
	wprep map[string]*sql.Stmt
}

// dbFile is the database's file name under Options.Dir.
const dbFile = "store.db"

// Open opens (creating if needed) the store under opts.Dir, applies pending
// migrations in one transaction and starts the writer. A database written
// by a newer binary is refused with an error wrapping ErrSchemaTooNew.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = withDefaults(opts)
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", opts.Dir, err)
	}
	if strings.ContainsAny(dir, "?#") {
		return nil, fmt.Errorf("open store %s: %w: the path may not contain '?' or '#'", dir, ErrInvalid)
	}
	shots := filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(shots, 0o750); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{opts: opts, dir: dir, shots: shots, log: opts.Logger, now: opts.Now,
		ops: make(chan *op, 4*opts.MaxBatch), wdone: make(chan struct{}), wprep: map[string]*sql.Stmt{}}
	path := filepath.Join(dir, dbFile)
	if s.wdb, err = openDB(path, opts, false); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if err := migrate(ctx, s.wdb, s.now()); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if s.rdb, err = openDB(path, opts, true); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.rdb.SetMaxOpenConns(opts.Readers)
	s.rdb.SetMaxIdleConns(opts.Readers)
	s.rdb.SetConnMaxLifetime(0)
	if err := s.prepare(ctx); err != nil {
		s.rdb.Close()
		s.wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	if err := s.prepareWriter(ctx); err != nil {
		s.closeStmts()
		s.rdb.Close()
		s.wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.tasks = newTaskCache(opts.TaskCache)
	go s.runWriter()
	s.log.Debug("store open", "dir", dir, "sync", string(opts.Sync), "max_batch", opts.MaxBatch)
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Dir == "" {
		o.Dir = "./data"
	}
	if o.Sync == "" {
		o.Sync = SyncFull
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Readers <= 0 {
		o.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if o.TaskCache == 0 {
		o.TaskCache = 1 << 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// openDB opens path with the store's pragmas on every connection.
func openDB(path string, o Options, readOnly bool) (*sql.DB, error) {
	sync := "FULL"
	if o.Sync == SyncNormal {
		sync = "NORMAL"
	} else if o.Sync != SyncFull {
		return nil, fmt.Errorf("%w: sync %q (want %q or %q)", ErrInvalid, o.Sync, SyncFull, SyncNormal)
	}
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", o.BusyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(" + sync + ")",
		"_pragma=foreign_keys(1)",
	}
	if readOnly {
		// Read transactions are deferred: they never take the write lock.
		q = append(q, "_pragma=query_only(1)")
	} else {
		// The writer takes the write lock at BEGIN, so a batch never fails
		// half-way on a lock held by another process.
		q = append(q, "_txlock=immediate")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+strings.Join(q, "&"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// prepare prepares the hot reads.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.getTaskStmt, "SELECT " + taskCols + " FROM tasks WHERE id = ?"},
		{&s.eventsStmt, "SELECT " + eventCols + " FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?"},
		{&s.lastSeqStmt, "SELECT COALESCE(MAX(seq), 0) FROM events WHERE task_id = ?"},
		{&s.apiKeyStmt, "SELECT " + apiKeyCols + " FROM api_keys WHERE hash = ?"},
	} {
		st, err := s.rdb.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
		*p.st = st
	}
	return nil
}

// closeStmts closes the prepared statements.
func (s *Store) closeStmts() []error {
	var errs []error
	for _, st := range []*sql.Stmt{s.getTaskStmt, s.eventsStmt, s.lastSeqStmt, s.apiKeyStmt} {
		if st == nil {
			continue
		}
		if err := st.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, st := range s.wprep {
		if err := st.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Dir is the store's directory (absolute).
func (s *Store) Dir() string { return s.dir }

// Close stops accepting writes, commits the writes already queued, and
// closes the database. Calls after Close return ErrClosed. Close is
// idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.wdone
	errs := s.closeStmts() // the writer has exited
	if err := s.rdb.Close(); err != nil {
		errs = append(errs, err)
	}
	// A passive checkpoint keeps the WAL short for the next open; it is
	// not needed for durability.
	if _, err := s.wdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		errs = append(errs, err)
	}
	if err := s.wdb.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store %s: %w", s.dir, err)
	}
	return nil
}

// isClosed reports whether Close was called.
func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// readErr wraps a read error with its context, mapping a read after Close
// to ErrClosed and no rows to ErrNotFound.
func (s *Store) readErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case s.isClosed():
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IntegrityCheck runs SQLite's integrity check over the whole database.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.isClosed() {
		return fmt.Errorf("integrity check: %w", ErrClosed)
	}
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return s.readErr("integrity check", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.readErr("integrity check", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.readErr("integrity check", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check of %s: %s", s.dir, strings.Join(problems, "; "))
	}
	return nil
}

// nanos is t as stored (Unix nanoseconds, 0 for the zero time).
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
