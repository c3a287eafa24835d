package auth

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxRegisterBody bounds a registration request.
const maxRegisterBody = 16 << 10

// RegisterRequest is the body of POST /api/v1/devices/register.
type RegisterRequest struct {
	// DeviceID is the device the agent runs for; the token is limited to it.
	DeviceID string `json:"device_id"`
	// Secret is the registration secret, for agents without an API key
	// (then no Authorization header is sent).
	Secret string `json:"secret,omitempty"`
	// Tenant, when set, must be the credential's tenant (or any, for an
	// admin credential).
	Tenant string `json:"tenant,omitempty"`
}

// RegisterResponse is the answer to a registration.
type RegisterResponse struct {
	Token     string    `json:"token"`
	DeviceID  string    `json:"device_id"`
	Tenant    string    `json:"tenant"`
	Role      Role      `json:"role"`
	Kind      Kind      `json:"kind"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RegisterHandler serves POST /api/v1/devices/register: a device agent
// presents an API key or token whose role may register devices (operator
// or admin) in "Authorization: Bearer …", or the registration secret in
// the body, and gets a device token (kind device, role operator, limited
// to its device, Options.TokenTTL long). 200 with RegisterResponse; 400 a
// body that is not one JSON object of known fields; then 401 missing or
// bad credentials; 403 a credential that may not register (a viewer, a
// device token, another tenant); 400 a bad device id.
func (a *Authenticator) RegisterHandler() http.Handler {
	return http.HandlerFunc(a.register)
}

func (a *Authenticator) register(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
		return
	}
	var req RegisterRequest
	if err := decodeStrict(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	// Credentials first: an unauthenticated caller learns nothing about
	// what a valid body looks like.
	p, status, err := a.registrant(r, req)
	if err != nil {
		if status == http.StatusUnauthorized {
			writeUnauthorized(w, err)
		} else {
			writeError(w, status, "forbidden", err.Error())
		}
		return
	}
	setAuditActor(r.Context(), p)
	if err := validDeviceID(req.DeviceID); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	SetAuditTarget(r.Context(), req.DeviceID)
	tenant, err := p.TenantFor(req.Tenant)
	if err != nil {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	tok, dp, err := a.Issue(TokenSpec{Subject: req.DeviceID, Tenant: tenant, Role: RoleOperator, Kind: KindDevice, Device: req.DeviceID})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	AddAuditDetail(r.Context(), "device_token", dp.ID)
	a.log.Info("device registered", "device", req.DeviceID, "tenant", tenant, "by", p.Subject, "kind", p.Kind)
	writeJSON(w, http.StatusOK, RegisterResponse{Token: tok, DeviceID: req.DeviceID, Tenant: tenant,
		Role: dp.Role, Kind: dp.Kind, ExpiresAt: dp.ExpiresAt.UTC()})
}

// registrant authenticates a registration: the principal allowed to
// register, or the status (401, 403) and why not.
func (a *Authenticator) registrant(r *http.Request, req RegisterRequest) (Principal, int, error) {
	if a.opts.Disabled {
		return anonymous, 0, nil
	}
	if r.Header.Get("Authorization") != "" {
		p, err := a.authenticate(r, nil)
		if err != nil {
			return Principal{}, http.StatusUnauthorized, err
		}
		if err := p.Authorize(ActDevicesRegister); err != nil {
			return Principal{}, http.StatusForbidden, err
		}
		return p, 0, nil
	}
	if req.Secret == "" {
		return Principal{}, http.StatusUnauthorized, ErrNoCredentials
	}
	want := a.opts.RegistrationSecret
	if want == "" {
		return Principal{}, http.StatusUnauthorized, fmt.Errorf("%w: this server takes no registration secret (use an API key)", ErrInvalidCredentials)
	}
	if subtle.ConstantTimeCompare([]byte(req.Secret), []byte(want)) != 1 {
		return Principal{}, http.StatusUnauthorized, fmt.Errorf("%w: wrong registration secret", ErrInvalidCredentials)
	}
	return Principal{Subject: "registration-secret", Tenant: a.opts.RegistrationTenant, Role: RoleOperator, Kind: KindUser}, 0, nil
}

// WhoAmIHandler serves GET /api/v1/whoami: the caller's Principal as
// JSON (the console uses it to check a pasted token). Mount it behind
// Middleware.
func (a *Authenticator) WhoAmIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthorized", "no principal: mount whoami behind the auth middleware")
			return
		}
		writeJSON(w, http.StatusOK, p)
	})
}

// decodeStrict decodes one JSON object into v, refusing unknown fields
// (named), trailing data and bodies over maxRegisterBody.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("content type %q, want application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRegisterBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("body over %d bytes", mbe.Limit)
		}
		return fmt.Errorf("decode body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decode body: data after the JSON object")
	}
	return nil
}
