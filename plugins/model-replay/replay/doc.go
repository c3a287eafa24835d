// Package replay records the requests and replies of a model and plays them
// back, for deterministic tests and regression runs. It is the engine of the
// model-replay plugin.
//
// A cassette is a JSONL file, one recorded exchange a line:
//
//	{"key":"…64 hex…","time":"…","request":{"model":"…","messages":[{"role":"user","parts":[{"text":"打开设置"},{"image":"sha256:…"}]}],"params":{…}},"reply":"…","finish_reason":"stop","usage":{"prompt_tokens":12,"completion_tokens":7}}
//
// The request is kept as a summary: texts in full, images as their sha256.
// That is exactly what the request's key (reqkey.Sum with no model name
// and no tenant) covers, so a key can be recomputed from its line: a line
// without a key gets one when the cassette is read, and a line whose key
// does not match its request is an error. Lines are appended with one write
// each and fsync'd, so a cassette is never rewritten and a crash loses at
// most the exchange in flight.
//
// Recorder proxies to an OpenAI-compatible server (through the
// model-openai client), streams the reply through and appends the exchange
// once the reply is complete. Player answers from a cassette, matching a
// request either by key ("exact": the nth request with a key gets the nth
// reply recorded under it, the last one again after that) or by order
// ("sequence": the nth request gets the nth line). A request with no
// recording is an error naming its key and the nearest recorded request
// and where they differ: never an empty reply.
//
// What it is not: a cache. It never calls a model in replay mode and never
// answers from the cassette in record mode.
package replay
