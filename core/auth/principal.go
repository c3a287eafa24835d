package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Role is what a principal may do (see Allowed). Roles are ordered:
// admin can do everything operator can, operator everything viewer can.
type Role string

// The roles.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Roles lists every role, strongest first.
var Roles = []Role{RoleAdmin, RoleOperator, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleViewer }

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q (want admin, operator or viewer)", s)
	}
	return r, nil
}

// Kind is what sort of caller a principal is.
type Kind string

// The kinds of principal.
const (
	// KindUser is a person holding a token.
	KindUser Kind = "user"
	// KindDevice is a device agent holding a token from registration; it
	// acts only on its own device.
	KindDevice Kind = "device"
	// KindAPIKey is a script holding an API key.
	KindAPIKey Kind = "apikey"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindUser || k == KindDevice || k == KindAPIKey }

// DefaultTenant is the tenant of every request when auth is disabled.
const DefaultTenant = "default"

// Principal is an authenticated caller.
type Principal struct {
	// Subject names the caller: a user, a device id or an API key's name.
	Subject string `json:"subject"`
	// Tenant is the tenant every request of the caller acts in.
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	Kind   Kind   `json:"kind"`
	// Device is, for KindDevice, the one device the caller may act on.
	Device string `json:"device,omitempty"`
	// ID is the token's jti or the API key's id.
	ID string `json:"id,omitempty"`
	// ExpiresAt is when the credential stops being valid; zero for an API
	// key without expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// TenantFor returns the tenant a request acts in when its body names
// requested (empty: none named). Only an admin may name a tenant other
// than its own; for anyone else that is ErrForbidden.
func (p Principal) TenantFor(requested string) (string, error) {
	if requested == "" || requested == p.Tenant {
		return p.Tenant, nil
	}
	if p.Role != RoleAdmin {
		return "", fmt.Errorf("%w: role %s of tenant %q may not act for tenant %q", ErrForbidden, p.Role, p.Tenant, requested)
	}
	if err := validName("tenant", requested); err != nil {
		return "", err
	}
	return requested, nil
}

// CanSee reports whether p may see a resource of tenant: its own tenant's,
// or any for an admin. Handlers answer 404 (not 403) when it is false, so
// another tenant's resources do not reveal that they exist.
func (p Principal) CanSee(tenant string) bool {
	return p.Role == RoleAdmin || p.Tenant == tenant
}

// CanUseDevice reports whether p may act on device id: a device principal
// only on its own device, anyone else on any device of a tenant it sees.
func (p Principal) CanUseDevice(id string) bool {
	return p.Kind != KindDevice || p.Device == id
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the middleware put in ctx; ok is
// false for requests on public paths.
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// validDeviceID checks a device id (pool ids are "<backend>/<id>").
func validDeviceID(id string) error { return validPath("device id", id) }

// validPath checks a subject or device id: segments as validName,
// separated by "/", none empty, "." or "..", 256 bytes at most.
func validPath(what, s string) error {
	if len(s) > 256 {
		return fmt.Errorf("%s is %d bytes long (at most 256)", what, len(s))
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%s %q has a %q segment", what, s, seg)
		}
		if err := validName(what+" segment", seg); err != nil {
			return fmt.Errorf("%s %q: %w", what, s, err)
		}
	}
	return nil
}

// validName checks a tenant or subject: 1–128 bytes of letters, digits and
// . _ - : @ (no spaces, slashes or control characters).
func validName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > 128 {
		return fmt.Errorf("%s is %d bytes long (at most 128)", what, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '-', c == ':', c == '@':
		default:
			return fmt.Errorf("%s %q has character %q (allowed: letters, digits, . _ - : @)", what, s, c)
		}
	}
	return nil
}
