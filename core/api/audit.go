package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/openautoglm/cloudphone/core/store"
)

// AuditReader reads the audit log (*store.Store).
type AuditReader interface {
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, string, error)
	VerifyAudit(ctx context.Context) error
}

// AuditPage is the body of GET /api/v1/audit.
type AuditPage struct {
	Entries []store.AuditEntry `json:"entries"`
	Next    string             `json:"next,omitempty"`
	// Chain is "ok" or why the hash chain does not verify (?verify=1).
	Chain string `json:"chain,omitempty"`
}

// AuditHandler serves GET /api/v1/audit: the audit log newest first,
// filtered by actor, tenant, action and since (RFC 3339), paged by cursor
// and limit; ?verify=1 checks the whole hash chain. Admins only (the
// auth middleware's route table says so).
func AuditHandler(rd AuditReader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := store.AuditFilter{Actor: q.Get("actor"), Tenant: q.Get("tenant"), Action: q.Get("action"), Cursor: q.Get("cursor")}
		if v := q.Get("since"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				WriteError(w, http.StatusBadRequest, "invalid_request", "since must be an RFC 3339 time: "+err.Error())
				return
			}
			f.Since = t
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				WriteError(w, http.StatusBadRequest, "invalid_request", "limit must be 1 to 1000, got "+strconv.Quote(v))
				return
			}
			f.Limit = n
		}
		list, next, err := rd.ListAudit(r.Context(), f)
		if err != nil {
			if errors.Is(err, store.ErrInvalid) {
				WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
				return
			}
			WriteError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		page := AuditPage{Entries: list, Next: next}
		if page.Entries == nil {
			page.Entries = []store.AuditEntry{}
		}
		if q.Get("verify") == "1" {
			page.Chain = "ok"
			if err := rd.VerifyAudit(r.Context()); err != nil {
				page.Chain = err.Error()
			}
		}
		writeJSON(w, http.StatusOK, page)
	})
}
