package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one row of the audit log: who did what to what, and how it
// went. Rows are append-only and hash-chained: Hash = sha256(PrevHash ||
// canonical encoding of the row), PrevHash is the previous row's Hash
// (GenesisHash for the first row).
type AuditEntry struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"` // the subject
	Tenant string    `json:"tenant,omitempty"`
	Role   string    `json:"role,omitempty"`
	Action string    `json:"action"` // e.g. "task.submit", "plugin.reload"
	Target string    `json:"target,omitempty"`
	Result string    `json:"result"` // e.g. "ok", "denied", "error: …"
	// Details is a JSON value ("{}" when empty), stored compacted.
	Details  json.RawMessage `json:"details,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// GenesisHash is the PrevHash of the first audit row.
var GenesisHash = strings.Repeat("0", 64)

// AuditError is a break in the audit chain: the first row that does not
// verify, and why. It wraps ErrAuditTampered.
type AuditError struct {
	Seq    int64
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("audit log tampered at seq %d: %s", e.Seq, e.Reason)
}

func (e *AuditError) Unwrap() error { return ErrAuditTampered }

// auditHash is sha256(prev || canonical(e)): the prev hash bytes, then
// each field as an 8-byte big-endian length and its bytes (seq and time as
// decimal), so no two different rows encode the same.
func auditHash(prev string, e *AuditEntry) string {
	h := sha256.New()
	h.Write([]byte(prev))
	var n [8]byte
	for _, f := range []string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(nanos(e.Time), 10),
		e.Actor, e.Tenant, e.Role, e.Action, e.Target, e.Result, string(e.Details)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit appends e to the audit log and returns it as stored (Seq,
// Time when unset, PrevHash and Hash filled in). Appends are serialized by
// the store's single writer, so the chain has no forks; like every write,
// it is durable when AppendAudit returns nil.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	what := fmt.Sprintf("append audit %s by %s", e.Action, e.Actor)
	if e.Action == "" {
		return AuditEntry{}, fmt.Errorf("%s: %w: empty action", what, ErrInvalid)
	}
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, e.Details); err != nil {
		return AuditEntry{}, fmt.Errorf("%s: %w: details are not valid JSON: %v", what, ErrInvalid, err)
	}
	e.Details = json.RawMessage(buf.String())
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	err := s.write(ctx, what, func(tx *sql.Tx) error {
		var seq int64
		var prev string
		err := s.txQueryRow(tx, qAuditHead).Scan(&seq, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			seq, prev, err = 0, GenesisHash, nil
		}
		if err != nil {
			return fmt.Errorf("%s: read the chain head: %w", what, err)
		}
		e.Seq, e.PrevHash = seq+1, prev
		e.Hash = auditHash(prev, &e)
		if _, err := s.txExec(tx, qInsertAudit, e.Seq, nanos(e.Time), e.Actor, e.Tenant, e.Role, e.Action, e.Target,
			e.Result, string(e.Details), e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := s.txExec(tx, qUpsertAuditHead, e.Seq, e.Hash); err != nil {
			return fmt.Errorf("%s: move the chain head: %w", what, err)
		}
		return nil
	})
	if err != nil {
		return AuditEntry{}, err
	}
	return e, nil
}

const auditCols = "seq, time, actor, tenant, role, action, target, result, details, prev_hash, hash"

func scanAudit(r scanner) (AuditEntry, error) {
	var e AuditEntry
	var t int64
	var details string
	if err := r.Scan(&e.Seq, &t, &e.Actor, &e.Tenant, &e.Role, &e.Action, &e.Target, &e.Result, &details,
		&e.PrevHash, &e.Hash); err != nil {
		return AuditEntry{}, err
	}
	e.Time, e.Details = fromNanos(t), json.RawMessage(details)
	return e, nil
}

// VerifyAudit walks the whole audit chain in one read transaction and
// returns nil if it is intact, or an *AuditError (wrapping
// ErrAuditTampered) naming the first row that was modified, deleted (a gap
// in the sequence, or a missing tail) or inserted.
//
// The chain proves the log was not edited by someone who did not also
// recompute every later hash; to detect that too, keep the head hash
// (the last entry's Hash) somewhere else and compare.
func (s *Store) VerifyAudit(ctx context.Context) error {
	what := "verify audit log"
	if s.isClosed() {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.readErr(what, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var headSeq int64
	var headHash string
	err = tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash)
	if errors.Is(err, sql.ErrNoRows) {
		headSeq, headHash, err = 0, GenesisHash, nil
	}
	if err != nil {
		return s.readErr(what, err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+auditCols+" FROM audit_log ORDER BY seq")
	if err != nil {
		return s.readErr(what, err)
	}
	defer rows.Close()
	prev, want := GenesisHash, int64(1)
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return s.readErr(what, err)
		}
		switch {
		case e.Seq != want:
			return &AuditError{Seq: want, Reason: fmt.Sprintf("row %d is missing (next row is %d)", want, e.Seq)}
		case e.PrevHash != prev:
			return &AuditError{Seq: e.Seq, Reason: "prev_hash does not match the previous row's hash (a row was deleted or inserted before it)"}
		case auditHash(prev, &e) != e.Hash:
			return &AuditError{Seq: e.Seq, Reason: "hash does not match the row's content (the row was modified)"}
		}
		prev, want = e.Hash, want+1
	}
	if err := rows.Err(); err != nil {
		return s.readErr(what, err)
	}
	last := want - 1
	switch {
	case last < headSeq:
		return &AuditError{Seq: last + 1, Reason: fmt.Sprintf("rows %d to %d are missing (the chain head is %d)", last+1, headSeq, headSeq)}
	case last > headSeq:
		return &AuditError{Seq: headSeq + 1, Reason: fmt.Sprintf("rows after the chain head %d were inserted", headSeq)}
	case prev != headHash:
		return &AuditError{Seq: last, Reason: "the last row's hash does not match the chain head"}
	}
	return nil
}

// AuditFilter selects audit rows for ListAudit. Zero fields select all.
type AuditFilter struct {
	Actor  string
	Tenant string
	Action string
	Since  time.Time
	// Cursor continues a listing (the next cursor ListAudit returned).
	Cursor string
	// Limit bounds the page (default 100, at most 1000).
	Limit int
}

// ListAudit returns a page of audit rows matching f, newest first, and the
// cursor of the next page ("" when this is the last).
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, string, error) {
	what := "list audit log"
	if s.isClosed() {
		return nil, "", fmt.Errorf("%s: %w", what, ErrClosed)
	}
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"tenant", f.Tenant}, {"action", f.Action}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, f.Since.UnixNano())
	}
	if f.Cursor != "" {
		c, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || c <= 0 {
			return nil, "", fmt.Errorf("%s: %w: bad cursor %q", what, ErrInvalid, f.Cursor)
		}
		where, args = append(where, "seq < ?"), append(args, c)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT " + auditCols + " FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", s.readErr(what, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, "", s.readErr(what, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.readErr(what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(out[limit-1].Seq, 10)
	}
	return out, next, nil
}
