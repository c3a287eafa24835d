package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/store"
)

// Credentials mints tokens and manages API keys (*auth.Authenticator).
type Credentials interface {
	Issue(spec auth.TokenSpec) (string, auth.Principal, error)
	CreateAPIKey(ctx context.Context, spec auth.APIKeySpec) (string, auth.APIKey, error)
	RevokeAPIKey(ctx context.Context, keyOrHash string) error
}

// KeyLister lists stored API keys (*store.Store).
type KeyLister interface {
	ListAPIKeys(ctx context.Context, tenant string) ([]store.APIKey, error)
}

// TokenRequest is the body of POST /api/v1/tokens.
type TokenRequest struct {
	Subject string `json:"subject"`
	Tenant  string `json:"tenant"`
	Role    string `json:"role"`
	// TTLSeconds is the token's lifetime (default api.auth.token_ttl).
	TTLSeconds int64 `json:"ttl_s,omitempty"`
}

// TokenResponse is a minted token.
type TokenResponse struct {
	Token     string    `json:"token"`
	Subject   string    `json:"subject"`
	Tenant    string    `json:"tenant"`
	Role      auth.Role `json:"role"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APIKeyRequest is the body of POST /api/v1/apikeys.
type APIKeyRequest struct {
	Subject string `json:"subject"`
	Tenant  string `json:"tenant"`
	Role    string `json:"role"`
}

// APIKeyResponse is a new API key: Key is shown this once.
type APIKeyResponse struct {
	Key       string    `json:"key"`
	Hash      string    `json:"hash"`
	Subject   string    `json:"subject"`
	Tenant    string    `json:"tenant"`
	Role      auth.Role `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// adminRoutes are the credential routes (admin only: the auth
// middleware's route table says so), mounted when Server.Credentials is
// set.
func (s *Server) adminRoutes() []route {
	if s.Credentials == nil {
		return nil
	}
	return []route{
		{"POST /api/v1/tokens", s.createToken},
		{"GET /api/v1/apikeys", s.listAPIKeys},
		{"POST /api/v1/apikeys", s.createAPIKey},
		{"DELETE /api/v1/apikeys/{hash}", s.revokeAPIKey},
	}
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if req.TTLSeconds < 0 {
		WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("ttl_s must be positive, got %d", req.TTLSeconds))
		return
	}
	tok, p, err := s.Credentials.Issue(auth.TokenSpec{Subject: req.Subject, Tenant: req.Tenant, Role: role,
		TTL: time.Duration(req.TTLSeconds) * time.Second})
	if err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	auth.SetAuditTarget(r.Context(), "token:"+p.Subject+"@"+p.Tenant)
	writeJSON(w, http.StatusCreated, TokenResponse{Token: tok, Subject: p.Subject, Tenant: p.Tenant, Role: p.Role, ExpiresAt: p.ExpiresAt})
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req APIKeyRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		s.writeErr(w, r, err)
		return
	}
	role, err := auth.ParseRole(req.Role)
	if err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	key, k, err := s.Credentials.CreateAPIKey(r.Context(), auth.APIKeySpec{Subject: req.Subject, Tenant: req.Tenant, Role: role})
	if err != nil {
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	auth.SetAuditTarget(r.Context(), "apikey:"+k.Hash)
	writeJSON(w, http.StatusCreated, APIKeyResponse{Key: key, Hash: k.Hash, Subject: k.Subject, Tenant: k.Tenant, Role: k.Role,
		CreatedAt: k.CreatedAt})
}

// listAPIKeys lists stored keys (hashes and metadata, never keys),
// optionally of one tenant.
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	if s.Keys == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server keeps no API keys")
		return
	}
	list, err := s.Keys.ListAPIKeys(r.Context(), r.URL.Query().Get("tenant"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if list == nil {
		list = []store.APIKey{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	hash := r.PathValue("hash")
	if !sha256Hex.MatchString(hash) {
		WriteError(w, http.StatusBadRequest, "invalid_request", "an API key is named by its sha256 in lowercase hex")
		return
	}
	auth.SetAuditTarget(r.Context(), "apikey:"+hash)
	if err := s.Credentials.RevokeAPIKey(r.Context(), hash); err != nil {
		if errors.Is(err, auth.ErrAPIKeyNotFound) || errors.Is(err, store.ErrNotFound) {
			WriteError(w, http.StatusNotFound, "not_found", "no API key with hash "+hash)
			return
		}
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
