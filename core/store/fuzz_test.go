package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzListCursor feeds arbitrary cursors (they come from API clients) to
// ListTasks and ListAudit: each either lists or refuses with ErrInvalid.
func FuzzListCursor(f *testing.F) {
	for _, seed := range []string{"", "1", "42", "-1", "0", "x", "9223372036854775807", "9223372036854775808", "1 OR 1=1", "' --"} {
		f.Add(seed)
	}
	s := openTest(f, Options{})
	ctx := context.Background()
	for i := range 3 {
		if _, _, err := s.CreateTask(ctx, Task{ID: taskID(i), Instruction: "x"}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		tasks, _, err := s.ListTasks(ctx, TaskFilter{Cursor: cursor, Limit: 2})
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ListTasks(%q): %v", cursor, err)
		}
		if len(tasks) > 2 {
			t.Fatalf("ListTasks(%q): %d tasks over the limit", cursor, len(tasks))
		}
		if _, _, err := s.ListAudit(ctx, AuditFilter{Cursor: cursor}); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ListAudit(%q): %v", cursor, err)
		}
	})
}

// FuzzAuditHash checks that the canonical encoding is unambiguous: moving
// bytes between two adjacent fields changes the hash, and an entry hashes
// the same after a round trip through the database.
func FuzzAuditHash(f *testing.F) {
	f.Add("alice", "acme", "task.submit", "t-1", "ok", `{"a":1}`, 3)
	f.Add("", "", "x", "", "", `{}`, 0)
	f.Add("a|b", "c", "d\x00e", "", "ok", `"s"`, 1)
	f.Fuzz(func(t *testing.T, actor, tenant, action, target, result, details string, cut int) {
		e := AuditEntry{Seq: 7, Time: time.Unix(0, 1700000000123456789), Actor: actor, Tenant: tenant, Action: action,
			Target: target, Result: result, Details: json.RawMessage(details)}
		h := auditHash(GenesisHash, &e)
		if auditHash(GenesisHash, &e) != h {
			t.Fatal("hash is not deterministic")
		}
		// Move the tail of Actor into Tenant: same concatenation, other row.
		if n := len(actor); n > 0 {
			c := ((cut % n) + n) % n
			moved := e
			moved.Actor, moved.Tenant = actor[:c], actor[c:]+tenant
			if auditHash(GenesisHash, &moved) == h {
				t.Fatalf("actor %q tenant %q hashes like actor %q tenant %q", moved.Actor, moved.Tenant, actor, tenant)
			}
		}
		other := e
		other.Seq++
		if auditHash(GenesisHash, &other) == h {
			t.Fatal("seq is not hashed")
		}
	})
}
