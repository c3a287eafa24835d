package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxIssuedTTL bounds the lifetime of a token minted over HTTP.
const maxIssuedTTL = 365 * 24 * time.Hour

// APIKeyLister is an APIKeyStore that can also list keys (for GET
// /api/v1/apikeys); StoreBackend is one.
type APIKeyLister interface {
	ListAPIKeys(ctx context.Context, tenant string) ([]APIKey, error)
}

// Handlers returns the routes auth serves, pattern → handler, for the
// API to mount (api.Server.Extra) behind Middleware:
//
//	POST   /api/v1/devices/register  device registration (RegisterHandler)
//	GET    /api/v1/whoami            the caller's principal
//	POST   /api/v1/tokens            mint a token (admin)
//	POST   /api/v1/apikeys           create an API key (admin)
//	GET    /api/v1/apikeys           list API keys, hashes only (admin)
//	DELETE /api/v1/apikeys/{hash}    revoke an API key (admin)
//
// The API key routes are left out when the Authenticator has no store.
func (a *Authenticator) Handlers() map[string]http.Handler {
	m := map[string]http.Handler{
		"POST /api/v1/devices/register": a.RegisterHandler(),
		"GET /api/v1/whoami":            a.WhoAmIHandler(),
		"POST /api/v1/tokens":           http.HandlerFunc(a.createToken),
	}
	if a.opts.APIKeys != nil {
		m["POST /api/v1/apikeys"] = http.HandlerFunc(a.createAPIKey)
		m["DELETE /api/v1/apikeys/{hash}"] = http.HandlerFunc(a.revokeAPIKey)
		if _, ok := a.opts.APIKeys.(APIKeyLister); ok {
			m["GET /api/v1/apikeys"] = http.HandlerFunc(a.listAPIKeys)
		}
	}
	return m
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
	// Tenant defaults to the caller's.
	Tenant string `json:"tenant,omitempty"`
	// TTLSeconds defaults to api.auth.token_ttl; at most a year.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// TokenResponse is a minted token and what it stands for.
type TokenResponse struct {
	Token string `json:"token"`
	Principal
}

// caller returns the request's principal, answering 401 when there is
// none (the handler was mounted without the middleware).
func caller(w http.ResponseWriter, r *http.Request) (Principal, bool) {
	p, ok := FromContext(r.Context())
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "no principal: mount auth's handlers behind its middleware")
	}
	return p, ok
}

// requestTenant is TenantFor answering 403 itself.
func requestTenant(w http.ResponseWriter, p Principal, requested string) (string, bool) {
	t, err := p.TenantFor(requested)
	if err != nil {
		status, code := http.StatusForbidden, "forbidden"
		if !errors.Is(err, ErrForbidden) {
			status, code = http.StatusUnprocessableEntity, "invalid_request"
		}
		writeError(w, status, code, err.Error())
		return "", false
	}
	return t, true
}

func (a *Authenticator) createToken(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	if err := p.Authorize(ActTokensCreate); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	var req TokenRequest
	if err := decodeStrict(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	tenant, ok := requestTenant(w, p, req.Tenant)
	if !ok {
		return
	}
	ttl := time.Duration(req.TTLSeconds) * time.Second
	if req.TTLSeconds < 0 || ttl > maxIssuedTTL {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", fmt.Sprintf("ttl_seconds %d: want 1 to %d", req.TTLSeconds, int64(maxIssuedTTL/time.Second)))
		return
	}
	tok, tp, err := a.Issue(TokenSpec{Subject: req.Subject, Tenant: tenant, Role: req.Role, TTL: ttl})
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", err.Error())
		return
	}
	SetAuditTarget(r.Context(), "token:"+tp.ID)
	AddAuditDetail(r.Context(), "subject", tp.Subject)
	AddAuditDetail(r.Context(), "granted_role", string(tp.Role))
	AddAuditDetail(r.Context(), "granted_tenant", tp.Tenant)
	writeJSON(w, http.StatusCreated, TokenResponse{Token: tok, Principal: tp})
}

// APIKeyRequest is the body of POST /api/v1/apikeys.
type APIKeyRequest struct {
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
	// Tenant defaults to the caller's.
	Tenant string `json:"tenant,omitempty"`
}

// APIKeyResponse is a new key (shown once) and its stored record.
type APIKeyResponse struct {
	Key     string    `json:"key"`
	Hash    string    `json:"hash"`
	Subject string    `json:"subject"`
	Tenant  string    `json:"tenant"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created_at"`
}

func (a *Authenticator) createAPIKey(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	if err := p.Authorize(ActAPIKeysManage); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	var req APIKeyRequest
	if err := decodeStrict(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	tenant, ok := requestTenant(w, p, req.Tenant)
	if !ok {
		return
	}
	if err := validPath("subject", req.Subject); err != nil || !req.Role.Valid() {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", fmt.Sprintf("want a subject and a role of admin, operator or viewer (subject: %v, role %q)", err, req.Role))
		return
	}
	key, k, err := a.CreateAPIKey(r.Context(), APIKeySpec{Subject: req.Subject, Tenant: tenant, Role: req.Role})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	SetAuditTarget(r.Context(), "apikey:"+k.Hash)
	AddAuditDetail(r.Context(), "subject", k.Subject)
	AddAuditDetail(r.Context(), "granted_role", string(k.Role))
	writeJSON(w, http.StatusCreated, APIKeyResponse{Key: key, Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: k.Role, Created: k.CreatedAt})
}

// APIKeyInfo is a listed key: never the key itself.
type APIKeyInfo struct {
	Hash      string    `json:"hash"`
	Subject   string    `json:"subject"`
	Tenant    string    `json:"tenant"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func (a *Authenticator) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	if err := p.Authorize(ActAPIKeysManage); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	tenant, ok := requestTenant(w, p, r.URL.Query().Get("tenant"))
	if !ok {
		return
	}
	keys, err := a.opts.APIKeys.(APIKeyLister).ListAPIKeys(r.Context(), tenant)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	out := make([]APIKeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, APIKeyInfo{Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: k.Role, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Authenticator) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	p, ok := caller(w, r)
	if !ok {
		return
	}
	if err := p.Authorize(ActAPIKeysManage); err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	hash := r.PathValue("hash")
	SetAuditTarget(r.Context(), "apikey:"+hash)
	k, err := a.opts.APIKeys.LookupAPIKey(r.Context(), hash)
	if errors.Is(err, ErrAPIKeyNotFound) || err == nil && !p.CanSee(k.Tenant) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no api key %q", hash))
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	if err := a.RevokeAPIKey(r.Context(), hash); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
