// Package reqkey derives the canonical key of an inference request: a
// sha256 over the model names, the tenant, every message's role and text,
// the sha256 of every image, and the sampling parameters, in a
// length-prefixed encoding so that no two different requests share an
// encoding.
//
// The inference cache (core/cache) keys replies by it with the tenant
// included, so a reply is never served across tenants; the replay model
// adapter (plugins/model-replay) keys its cassette by it with the tenant
// left empty, so a recording made by one tenant replays for any.
//
// What it is not: it says nothing about whether a request may be cached;
// see Deterministic. Fields that do not change what a model answers (the
// request id, task id and deadline) are not part of the key.
package reqkey
