package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dgraph-io/ristretto/v2"
)

// Options configure an Authenticator.
type Options struct {
	// DataDir holds the signing key (KeyPath); it is created on first
	// use. Ignored when Key is set.
	DataDir string
	// Key is the signing key; nil loads or creates the one in DataDir.
	Key ed25519.PrivateKey
	// Disabled turns authentication off (api.auth.disabled): every request
	// is an admin of tenant "default". New warns loudly.
	Disabled bool
	// TokenTTL is the lifetime of tokens the server issues (device
	// registration, POST /api/v1/tokens); default 24h.
	TokenTTL time.Duration
	// APIKeys stores API keys; nil refuses every API key.
	APIKeys APIKeyStore
	// APIKeyCacheTTL is how long a looked-up API key is trusted before it
	// is looked up again, bounding how late another process's revocation
	// takes effect (revocations through this Authenticator are immediate).
	// Default 10s; negative disables the cache.
	APIKeyCacheTTL time.Duration
	// Audit records every mutating request; nil records nothing.
	Audit AuditLog
	// RegistrationSecret, when set, lets a device agent that presents it
	// register into RegistrationTenant without an API key.
	RegistrationSecret string
	// RegistrationTenant is the tenant of secret registrations (default
	// "default").
	RegistrationTenant string
	// Routes is the route table; nil means Routes().
	Routes []Route
	// CacheEntries bounds the verified-token cache (see VerifierOptions).
	CacheEntries int64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Authenticator authenticates requests (tokens and API keys), authorizes
// them by route, and audits mutating ones. It is safe for concurrent use.
type Authenticator struct {
	opts     Options
	log      *slog.Logger
	signer   *Signer
	verifier *Verifier
	router   *router
	keyCache *ristretto.Cache[string, Principal]
}

// New builds an Authenticator: it loads (or creates) the signing key and
// the route table. With opts.Disabled it logs a warning, each time.
func New(opts Options) (*Authenticator, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 24 * time.Hour
	}
	if opts.APIKeyCacheTTL == 0 {
		opts.APIKeyCacheTTL = 10 * time.Second
	}
	if opts.RegistrationTenant == "" {
		opts.RegistrationTenant = DefaultTenant
	}
	if err := validName("registration tenant", opts.RegistrationTenant); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if opts.Routes == nil {
		opts.Routes = Routes()
	}
	key := opts.Key
	if key == nil {
		if opts.DataDir == "" {
			return nil, errors.New("auth: no signing key and no data directory to keep one in")
		}
		var err error
		if key, err = LoadOrCreateKey(opts.DataDir); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	rt, err := newRouter(opts.Routes)
	if err != nil {
		return nil, err
	}
	a := &Authenticator{opts: opts, log: opts.Logger, signer: NewSigner(key, opts.Now), router: rt}
	a.verifier, err = NewVerifier(a.signer.PublicKey(), VerifierOptions{CacheEntries: opts.CacheEntries, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if opts.APIKeyCacheTTL > 0 {
		a.keyCache, err = ristretto.NewCache(&ristretto.Config[string, Principal]{
			NumCounters: 100_000, MaxCost: 10_000, BufferItems: 64, IgnoreInternalCost: true,
		})
		if err != nil {
			a.verifier.Close()
			return nil, fmt.Errorf("auth: api key cache: %w", err)
		}
	}
	if opts.Disabled {
		a.log.Warn("AUTHENTICATION IS DISABLED (api.auth.disabled: true): every request, from anyone who can reach the listener, is an admin of tenant \"default\". Never run this way on a shared network.")
	}
	return a, nil
}

// Disabled reports whether authentication is off.
func (a *Authenticator) Disabled() bool { return a.opts.Disabled }

// Signer returns the token signer.
func (a *Authenticator) Signer() *Signer { return a.signer }

// Verifier returns the token verifier.
func (a *Authenticator) Verifier() *Verifier { return a.verifier }

// Issue mints a token for spec; a zero TTL means Options.TokenTTL.
func (a *Authenticator) Issue(spec TokenSpec) (string, Principal, error) {
	if spec.TTL == 0 {
		spec.TTL = a.opts.TokenTTL
	}
	return a.signer.Sign(spec)
}

// anonymous is the principal of every request when auth is disabled.
var anonymous = Principal{Subject: "anonymous", Tenant: DefaultTenant, Role: RoleAdmin, Kind: KindUser}

// Credential returns the principal a credential (a JWT or an API key)
// stands for, or an error wrapping ErrInvalidCredentials or ErrExpired.
func (a *Authenticator) Credential(ctx context.Context, cred string) (Principal, error) {
	if cred == "" {
		return Principal{}, ErrNoCredentials
	}
	if !IsAPIKey(cred) {
		return a.verifier.Verify(cred)
	}
	if err := validAPIKeyShape(cred); err != nil {
		return Principal{}, err
	}
	if a.opts.APIKeys == nil {
		return Principal{}, fmt.Errorf("%w: this server has no API key store", ErrInvalidCredentials)
	}
	hash := HashAPIKey(cred)
	if a.keyCache != nil {
		if p, ok := a.keyCache.Get(hash); ok {
			return p, nil
		}
	}
	k, err := a.opts.APIKeys.LookupAPIKey(ctx, hash)
	if errors.Is(err, ErrAPIKeyNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown api key", ErrInvalidCredentials)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up api key: %w", err)
	}
	if !k.RevokedAt.IsZero() {
		return Principal{}, fmt.Errorf("%w: api key revoked at %s", ErrInvalidCredentials, k.RevokedAt.UTC().Format(time.RFC3339))
	}
	if !k.Role.Valid() || validName("tenant", k.Tenant) != nil {
		return Principal{}, fmt.Errorf("%w: stored api key has role %q, tenant %q", ErrInvalidCredentials, k.Role, k.Tenant)
	}
	p := k.principal()
	if a.keyCache != nil {
		a.keyCache.SetWithTTL(hash, p, 1, a.opts.APIKeyCacheTTL)
	}
	return p, nil
}

// CreateAPIKey makes and stores a new API key and returns it; it is shown
// once, only its hash is kept.
func (a *Authenticator) CreateAPIKey(ctx context.Context, spec APIKeySpec) (string, APIKey, error) {
	if a.opts.APIKeys == nil {
		return "", APIKey{}, errors.New("create api key: this server has no API key store")
	}
	return CreateAPIKey(ctx, a.opts.APIKeys, spec, a.opts.Now())
}

// CreateAPIKey makes a key for spec, stores its hash in st and returns
// the key.
func CreateAPIKey(ctx context.Context, st APIKeyStore, spec APIKeySpec, now time.Time) (string, APIKey, error) {
	if err := validPath("subject", spec.Subject); err != nil {
		return "", APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	if err := validName("tenant", spec.Tenant); err != nil {
		return "", APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	if !spec.Role.Valid() {
		return "", APIKey{}, fmt.Errorf("create api key: unknown role %q", spec.Role)
	}
	key, hash, err := NewAPIKey()
	if err != nil {
		return "", APIKey{}, err
	}
	k := APIKey{Hash: hash, Subject: spec.Subject, Tenant: spec.Tenant, Role: spec.Role, CreatedAt: now.UTC()}
	if err := st.CreateAPIKey(ctx, key, k); err != nil {
		return "", APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	return key, k, nil
}

// RevokeAPIKey revokes the key with hash (or the key itself, "cp_…"); it
// stops working here at once.
func (a *Authenticator) RevokeAPIKey(ctx context.Context, keyOrHash string) error {
	if a.opts.APIKeys == nil {
		return errors.New("revoke api key: this server has no API key store")
	}
	hash := keyOrHash
	if IsAPIKey(keyOrHash) {
		hash = HashAPIKey(keyOrHash)
	}
	if err := a.opts.APIKeys.RevokeAPIKey(ctx, hash); err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if a.keyCache != nil {
		a.keyCache.Del(hash)
	}
	return nil
}

// Record appends e to the audit log (stamping its time when zero). A
// failure is logged and returned; it never panics.
func (a *Authenticator) Record(ctx context.Context, e Entry) error {
	if a.opts.Audit == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = a.opts.Now().UTC()
	}
	if err := a.opts.Audit.Append(context.WithoutCancel(ctx), e); err != nil {
		a.log.Error("audit append failed", "actor", e.Actor, "tenant", e.Tenant, "action", e.Action,
			"target", e.Target, "result", e.Result, "err", err)
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Close releases the caches.
func (a *Authenticator) Close() {
	a.verifier.Close()
	if a.keyCache != nil {
		a.keyCache.Close()
	}
}

// bearer returns the credential of an Authorization header value.
func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}
