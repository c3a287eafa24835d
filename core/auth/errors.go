package auth

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrNoCredentials: the request carries no credential.
	ErrNoCredentials = errors.New("no credentials: send Authorization: Bearer <token or API key>")
	// ErrInvalidCredentials: the credential is malformed, badly signed,
	// unknown, revoked, not yet valid or missing a claim.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrExpired: the credential was valid and has expired.
	ErrExpired = errors.New("credentials expired")
	// ErrForbidden: the caller is authenticated but its role (or kind)
	// does not allow the action.
	ErrForbidden = errors.New("forbidden")
	// ErrAPIKeyNotFound is what an APIKeyStore returns for an unknown
	// hash or id.
	ErrAPIKeyNotFound = errors.New("api key not found")
)
