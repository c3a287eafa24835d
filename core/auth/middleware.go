package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Middleware authenticates and authorizes every request before next:
//
//   - public routes (health, metrics, the console page and assets) pass;
//   - any other request needs "Authorization: Bearer <token or API key>"
//     (stream routes also take ?access_token=); none, or a bad, expired or
//     badly signed one, is 401 with WWW-Authenticate;
//   - the route's action must be allowed to the principal's role, else
//     403; a request matching no route needs admin (deny by default);
//   - a device principal on another device's route is 404;
//   - next sees the Principal in the context (FromContext);
//   - with an AuditLog, every mutating request (not GET/HEAD/OPTIONS) by
//     an authenticated caller, and every self-authenticating one
//     (registration), is recorded with its result.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := a.router.match(r)
		if route != nil && route.Public {
			next.ServeHTTP(w, r)
			return
		}
		action := ActAdmin
		if route != nil {
			action = route.Action
		}
		audited := a.opts.Audit != nil && mutating(r.Method)
		var note *auditNote
		if audited {
			note = &auditNote{}
			r = r.WithContext(contextWithNote(r.Context(), note))
			sw := &statusWriter{ResponseWriter: w}
			w = sw
			defer func() { a.recordRequest(r, action, note, sw.status) }()
		}
		if route != nil && route.SelfAuth {
			next.ServeHTTP(w, r)
			return
		}
		p, err := a.authenticate(r, route)
		if err != nil {
			if note != nil {
				note.anonymous = true // not audited: anyone could flood the log
			}
			writeUnauthorized(w, err)
			return
		}
		if note != nil {
			setAuditActor(r.Context(), p)
		}
		if err := p.Authorize(action); err != nil {
			writeError(w, http.StatusForbidden, "forbidden", err.Error())
			return
		}
		if route != nil && route.DeviceParam != "" {
			if id := pathParam(route.Pattern, r.URL.EscapedPath(), route.DeviceParam); !p.CanUseDevice(id) {
				writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no device %q", id))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// authenticate returns the request's principal.
func (a *Authenticator) authenticate(r *http.Request, route *Route) (Principal, error) {
	if a.opts.Disabled {
		return anonymous, nil
	}
	cred, ok := "", false
	if h := r.Header.Get("Authorization"); h != "" {
		if cred, ok = bearer(h); !ok {
			return Principal{}, fmt.Errorf("%w: Authorization header is not \"Bearer <credential>\"", ErrInvalidCredentials)
		}
	} else if route != nil && route.Stream && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		cred = r.URL.Query().Get("access_token")
	}
	return a.Credential(r.Context(), cred)
}

// Authenticate returns the principal of r's credentials, ignoring routes
// (for handlers mounted outside the middleware).
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	return a.authenticate(r, nil)
}

func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// recordRequest appends the audit entry of a finished mutating request.
func (a *Authenticator) recordRequest(r *http.Request, action Action, n *auditNote, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.anonymous || n.actor == nil && status == http.StatusUnauthorized {
		a.log.Debug("unauthenticated mutating request not audited", "method", r.Method, "path", r.URL.Path, "status", status)
		return
	}
	e := Entry{Action: string(action), Target: n.target, Result: resultOf(status),
		Details: map[string]any{"method": r.Method, "path": r.URL.Path, "status": status}}
	if e.Target == "" {
		e.Target = r.URL.Path
	}
	if n.actor != nil {
		e.Actor, e.Tenant, e.Role = n.actor.Subject, n.actor.Tenant, n.actor.Role
		e.Details["kind"] = string(n.actor.Kind)
	}
	for k, v := range n.details {
		e.Details[k] = v
	}
	_ = a.Record(r.Context(), e)
}

// writeUnauthorized answers 401 with an RFC 6750 challenge.
func writeUnauthorized(w http.ResponseWriter, err error) {
	challenge := `Bearer realm="cloudphone"`
	if !errors.Is(err, ErrNoCredentials) {
		challenge += `, error="invalid_token", error_description="` + headerSafe(err.Error()) + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
}

// headerSafe makes s fit a quoted header parameter.
func headerSafe(s string) string {
	b := make([]byte, 0, min(len(s), 200))
	for i := 0; i < len(s) && len(b) < 200; i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
		}
	}
	return string(b)
}

// writeError writes the API's JSON error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// writeJSON writes v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
