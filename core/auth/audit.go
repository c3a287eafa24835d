package auth

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Entry is one audit record: who did what to which target, in which
// tenant, with what result, when.
type Entry struct {
	Time time.Time
	// Actor is the principal's subject ("" when unauthenticated).
	Actor  string
	Tenant string
	Role   Role
	// Action is the Action of the route ("tasks.run") or, for events that
	// are not requests, what happened ("plugin.reload").
	Action string
	// Target is what was acted on: a task id, device id, plugin name, or
	// the request path when the handler named nothing more precise.
	Target string
	// Result is "ok", "denied" (401/403) or "failed" (any other error).
	Result string
	// Details are extra facts (method, path, status, kind, message).
	Details map[string]any
}

// AuditLog appends audit entries durably (core/store's hash-chained
// table). It must be safe for concurrent use.
type AuditLog interface {
	Append(ctx context.Context, e Entry) error
}

// auditNote lets a handler refine the entry the middleware records for its
// request.
type auditNote struct {
	mu      sync.Mutex
	target  string
	actor   *Principal
	details map[string]any
	// anonymous marks a request refused for its credentials.
	anonymous bool
}

func contextWithNote(ctx context.Context, n *auditNote) context.Context {
	return context.WithValue(ctx, auditNoteKey{}, n)
}

type auditNoteKey struct{}

// SetAuditTarget names what the current request acted on (a new task's
// id, say) in its audit entry. It does nothing outside an audited request.
func SetAuditTarget(ctx context.Context, target string) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		n.mu.Lock()
		n.target = target
		n.mu.Unlock()
	}
}

// AddAuditDetail adds a fact to the current request's audit entry.
func AddAuditDetail(ctx context.Context, key string, value any) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		n.mu.Lock()
		if n.details == nil {
			n.details = map[string]any{}
		}
		n.details[key] = value
		n.mu.Unlock()
	}
}

// setAuditActor names the actor of a self-authenticated request.
func setAuditActor(ctx context.Context, p Principal) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		n.mu.Lock()
		n.actor = &p
		n.mu.Unlock()
	}
}

// resultOf names the outcome of an HTTP status.
func resultOf(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "denied"
	default:
		return "failed"
	}
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
