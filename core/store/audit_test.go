package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fillAudit appends n rows and returns them.
func fillAudit(t *testing.T, s *Store, n int) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	for i := range n {
		e, err := s.AppendAudit(context.Background(), AuditEntry{
			Actor: fmt.Sprintf("user-%d", i%3), Tenant: fmt.Sprintf("tenant-%d", i%2), Role: "operator",
			Action: []string{"task.submit", "task.cancel", "plugin.reload"}[i%3], Target: fmt.Sprintf("t-%d", i),
			Result: "ok", Details: json.RawMessage(fmt.Sprintf(`{ "n" : %d }`, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAuditChain(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("empty log: %v", err)
	}
	rows := fillAudit(t, s, 10)
	if rows[0].Seq != 1 || rows[0].PrevHash != GenesisHash {
		t.Errorf("first row %+v", rows[0])
	}
	for i := 1; i < len(rows); i++ {
		if rows[i].PrevHash != rows[i-1].Hash || rows[i].Seq != rows[i-1].Seq+1 {
			t.Fatalf("row %d does not chain to %d", rows[i].Seq, rows[i-1].Seq)
		}
	}
	if string(rows[3].Details) != `{"n":3}` {
		t.Errorf("details stored as %s, want compacted", rows[3].Details)
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("intact log: %v", err)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Details: json.RawMessage("{bad")}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad details: err = %v, want ErrInvalid", err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	s := openTest(t, Options{})
	fillAudit(t, s, 2)
	db := rawDB(t, s.Dir())
	for _, q := range []string{"UPDATE audit_log SET result = 'denied' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2"} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only trigger", q, err)
		}
	}
}

// TestAuditTamper changes the log behind the store's back (dropping the
// append-only triggers first, as an attacker with the file would) and
// checks that VerifyAudit names the first bad row.
func TestAuditTamper(t *testing.T) {
	cases := []struct {
		name    string
		sql     []string
		wantSeq int64
	}{
		{"modify a field", []string{"UPDATE audit_log SET result = 'ok, trust me' WHERE seq = 4"}, 4},
		{"modify the actor", []string{"UPDATE audit_log SET actor = 'mallory' WHERE seq = 7"}, 7},
		{"modify details", []string{`UPDATE audit_log SET details = '{"n":99}' WHERE seq = 2`}, 2},
		{"modify the time", []string{"UPDATE audit_log SET time = time + 1 WHERE seq = 9"}, 9},
		{"modify and rehash one row", []string{"UPDATE audit_log SET result = 'x', hash = 'ab' WHERE seq = 5"}, 5},
		{"delete a row", []string{"DELETE FROM audit_log WHERE seq = 6"}, 6},
		{"delete the tail", []string{"DELETE FROM audit_log WHERE seq >= 8"}, 8},
		{"delete everything", []string{"DELETE FROM audit_log"}, 1},
		{"delete and renumber", []string{"DELETE FROM audit_log WHERE seq = 3", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3"}, 3},
		{"insert a row", []string{
			"UPDATE audit_log SET seq = -(seq + 1) WHERE seq >= 5",
			"UPDATE audit_log SET seq = -seq WHERE seq < 0",
			"INSERT INTO audit_log (seq, time, actor, action, result, details, prev_hash, hash) SELECT 5, time, 'mallory', 'task.submit', 'ok', '{}', hash, hash FROM audit_log WHERE seq = 4",
		}, 5},
		{"append a row", []string{
			"INSERT INTO audit_log (seq, time, actor, action, result, details, prev_hash, hash) SELECT 11, time, 'mallory', 'x', 'ok', '{}', hash, hash FROM audit_log WHERE seq = 10",
		}, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, Options{})
			fillAudit(t, s, 10)
			db := rawDB(t, s.Dir())
			stmts := append([]string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}, c.sql...)
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			err := s.VerifyAudit(context.Background())
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuditTampered) {
				t.Fatalf("err = %v, want an *AuditError", err)
			}
			if ae.Seq != c.wantSeq {
				t.Errorf("names seq %d (%s), want %d", ae.Seq, ae.Reason, c.wantSeq)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("seq %d", c.wantSeq)) {
				t.Errorf("message %q does not name the seq", err)
			}
		})
	}
}

func TestAuditListFilters(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	ctx := context.Background()
	rows := fillAudit(t, s, 30)
	cases := []struct {
		name string
		f    AuditFilter
		want int
	}{
		{"all", AuditFilter{}, 30},
		{"actor", AuditFilter{Actor: "user-1"}, 10},
		{"tenant", AuditFilter{Tenant: "tenant-0"}, 15},
		{"action", AuditFilter{Action: "plugin.reload"}, 10},
		{"actor and tenant", AuditFilter{Actor: "user-0", Tenant: "tenant-0"}, 5},
		{"since", AuditFilter{Since: rows[20].Time}, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			f.Limit = 4
			var got []AuditEntry
			for range 100 {
				page, next, err := s.ListAudit(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if len(got) != c.want {
				t.Fatalf("%d rows, want %d", len(got), c.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Seq >= got[i-1].Seq {
					t.Fatalf("not newest first: %d after %d", got[i].Seq, got[i-1].Seq)
				}
			}
		})
	}
	if _, _, err := s.ListAudit(ctx, AuditFilter{Cursor: "zz"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: err = %v, want ErrInvalid", err)
	}
}

// TestAuditTwoWriters: two stores on one database (a server and
// `cloudphone token create` beside it) appending at once still make one
// unbroken chain: the head is read inside each write's transaction, under
// SQLite's write lock.
func TestAuditTwoWriters(t *testing.T) {
	dir := t.TempDir()
	a := openTest(t, Options{Dir: dir})
	b := openTest(t, Options{Dir: dir})
	ctx := context.Background()
	errs := make(chan error, 2)
	for _, s := range []*Store{a, b} {
		go func() {
			for i := range 40 {
				if _, err := s.AppendAudit(ctx, AuditEntry{Actor: s.Dir(), Action: "x", Target: fmt.Sprint(i), Result: "ok"}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := a.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _, err := b.ListAudit(ctx, AuditFilter{Limit: 1000})
	if err != nil || len(rows) != 80 {
		t.Fatalf("%d rows, %v; want 80", len(rows), err)
	}
}
