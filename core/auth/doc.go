// Package auth authenticates and authorizes callers of the HTTP API.
//
// It holds:
//
//   - signing keys: one Ed25519 key per data directory
//     (data.dir/auth/jwt-ed25519.key, created 0600 on first use), shared by
//     `cloudphone serve` and `cloudphone token create`, so a token minted by
//     the CLI is accepted by a running server;
//   - tokens: JWTs (EdDSA) with subject, tenant, role and kind claims,
//     minted by Signer and checked by Verifier, which caches verified
//     tokens by a hash of the token string until they expire so a request
//     costs a hash and a map lookup, not a signature check;
//   - RBAC: the roles admin ⊇ operator ⊇ viewer, a table from action to
//     the roles allowed to perform it (Allowed), and the table from API
//     route to action (Routes) covering every endpoint;
//   - API keys for scripts ("cp_" + 32 random bytes), stored only as a
//     sha256 hash through the APIKeyStore interface;
//   - Authenticator: the HTTP middleware that puts the caller's Principal
//     in the request context (FromContext), answers 401 or 403 as JSON,
//     and records every mutating request through AuditLog; and the
//     endpoints auth serves itself (Handlers): device registration (POST
//     /api/v1/devices/register) and whoami;
//   - StoreBackend: core/store as the APIKeyStore and the hash-chained
//     AuditLog.
//
// It is not a user directory: there are no passwords or sessions. People
// get tokens from an admin (`cloudphone token create`, POST
// /api/v1/tokens) and scripts get API keys.
//
// Tenant isolation: a request's tenant is its principal's; only an admin
// may name another tenant (Principal.TenantFor), and a resource of another
// tenant is reported as absent, not forbidden (Principal.CanSee), so its
// existence does not leak.
package auth
