package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no number", map[string]string{"migrations/init.sql": ""}, "NNNN_name.sql"},
		{"zero", map[string]string{"migrations/0000_x.sql": ""}, "NNNN_name.sql"},
		{"gap", map[string]string{"migrations/0001_a.sql": "", "migrations/0003_c.sql": ""}, "expected version 2"},
		{"duplicate", map[string]string{"migrations/0001_a.sql": "", "migrations/001_b.sql": ""}, "expected version 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, body := range c.files {
				fsys[n] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := loadMigrations(fsys)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, c.want)
			}
		})
	}
}

// TestMigrationIsAtomic: a migration that fails halfway leaves the
// database as it was (its first statement is rolled back too) and the
// version unchanged; fixing it applies it.
func TestMigrationIsAtomic(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, Options{Dir: dir})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := openDB(dir+"/"+dbFile, withDefaults(Options{}), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	next := len(ms) + 1
	bad := append(ms, migration{version: next, name: "broken",
		sql: "CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);"})
	ctx := context.Background()
	if err := applyMigrations(ctx, db, bad, time.Now()); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("err = %v, want the broken migration named", err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed migration's first statement was kept (%d, %v)", n, err)
	}
	var v int
	if err := db.QueryRow("SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil || v != len(ms) {
		t.Errorf("version %d after a failed migration, want %d (%v)", v, len(ms), err)
	}
	good := append(ms, migration{version: next, name: "fixed", sql: "CREATE TABLE half (x INTEGER);"})
	if err := applyMigrations(ctx, db, good, time.Now()); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRow("SELECT name FROM schema_migrations WHERE version = ?", next).Scan(&name); errors.Is(err, sql.ErrNoRows) || name != "fixed" {
		t.Errorf("fixed migration not recorded: %q, %v", name, err)
	}
}
