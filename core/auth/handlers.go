package auth

import "net/http"

// Handlers returns the routes auth serves itself, pattern → handler, for
// the API to mount (api.Server.Extra) behind Middleware:
//
//	POST /api/v1/devices/register  device registration (RegisterHandler)
//	GET  /api/v1/whoami            the caller's principal (WhoAmIHandler)
//
// Minting tokens and managing API keys over HTTP are core/api's routes
// (POST /api/v1/tokens, /api/v1/apikeys), built on Issue, CreateAPIKey
// and RevokeAPIKey.
func (a *Authenticator) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /api/v1/devices/register": a.RegisterHandler(),
		"GET /api/v1/whoami":            a.WhoAmIHandler(),
	}
}
