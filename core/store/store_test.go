package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openTest opens a store in a fresh temp dir, closed at the end of the test.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// rawDB opens the store's database file directly (to inspect or tamper).
func rawDB(t testing.TB, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, dbFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenPragmas(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "2"}, // FULL
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := s.wdb.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("pragma %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("pragma %s = %q, want %q", c.pragma, got, c.want)
		}
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() || n < 1 {
		t.Errorf("schema_migrations has %d rows, want %d", n, SchemaVersion())
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestOpenSyncOption(t *testing.T) {
	s := openTest(t, Options{Sync: SyncNormal})
	var got string
	if err := s.wdb.QueryRow("PRAGMA synchronous").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "1" {
		t.Errorf("synchronous = %s, want 1 (NORMAL)", got)
	}
	_, err := Open(context.Background(), Options{Dir: t.TempDir(), Sync: "sometimes"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("bad sync: err = %v, want ErrInvalid naming it", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateTask(ctx, Task{ID: "a", Instruction: "open settings"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Options{Dir: dir}) // migrations are not applied twice
	got, err := s.Task(ctx, "a")
	if err != nil || got.Instruction != "open settings" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Options{Dir: dir})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, dir)
	if _, err := db.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(context.Background(), Options{Dir: dir})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{"999", dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestMigrationNames(t *testing.T) {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 || ms[0].name != "init" {
		t.Fatalf("migrations = %+v", ms)
	}
}

func TestAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateTask(ctx, Task{ID: "a", Instruction: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	calls := map[string]func() error{
		"CreateTask": func() error { _, _, err := s.CreateTask(ctx, Task{ID: "b", Instruction: "x"}); return err },
		"Task":       func() error { _, err := s.Task(ctx, "a"); return err },
		"ListTasks":  func() error { _, _, err := s.ListTasks(ctx, TaskFilter{}); return err },
		"UpdateState": func() error {
			_, err := s.UpdateState(ctx, "a", StateQueued, StateRunning)
			return err
		},
		"AppendEvent":   func() error { _, err := s.AppendEvent(ctx, Event{TaskID: "a", Kind: "step"}); return err },
		"Events":        func() error { _, err := s.Events(ctx, "a", 0, 0); return err },
		"PutScreenshot": func() error { _, err := s.PutScreenshot(ctx, []byte("png")); return err },
		"Screenshot":    func() error { _, err := s.Screenshot(ctx, strings.Repeat("a", 64)); return err },
		"Recover":       func() error { _, err := s.Recover(ctx, ""); return err },
		"AppendAudit":   func() error { _, err := s.AppendAudit(ctx, AuditEntry{Action: "x"}); return err },
		"VerifyAudit":   func() error { return s.VerifyAudit(ctx) },
		"Prune":         func() error { _, err := s.Prune(ctx, time.Now()); return err },
		"UpsertDevice":  func() error { return s.UpsertDevice(ctx, Device{ID: "d"}) },
		"ListDevices":   func() error { _, err := s.ListDevices(ctx, ""); return err },
		"LookupAPIKey":  func() error { _, err := s.LookupAPIKey(ctx, "k"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

func TestCloseFlushesQueuedWrites(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, _, err := s.CreateTask(ctx, Task{ID: taskID(i), Instruction: "x"})
			errs <- err
		}()
	}
	acked := 0
	for range n / 2 {
		if err := <-errs; err == nil {
			acked++
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range n - n/2 {
		if err := <-errs; err == nil {
			acked++
		} else if !errors.Is(err, ErrClosed) {
			t.Errorf("write racing Close: %v (want nil or ErrClosed)", err)
		}
	}
	var stored int
	db := rawDB(t, dir)
	if err := db.QueryRow("SELECT COUNT(*) FROM tasks").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != acked {
		t.Errorf("%d tasks stored, %d acknowledged", stored, acked)
	}
}

func taskID(i int) string { return fmt.Sprintf("task-%05d", i) }
