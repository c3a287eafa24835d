package reqkey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Key is the canonical digest of a request.
type Key [sha256.Size]byte

// String returns the key as lowercase hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Short returns the first 12 hex digits, for logs and errors.
func (k Key) Short() string { return hex.EncodeToString(k[:6]) }

// Parse reads a key written by String.
func Parse(s string) (Key, bool) {
	var k Key
	if len(s) != 2*len(k) {
		return k, false
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return k, false
	}
	return k, true
}

// version names the encoding; change it when the encoding changes, so old
// cassettes and caches miss instead of matching wrongly.
const version = "cloudphone/infer-key/v1"

// Part tags in the encoding.
const (
	tagText  = 't'
	tagImage = 'i'
	tagEmpty = 'n'
)

// Sum returns the key of req as sent to the model plugin named model (the
// name the host routes to; may be empty) on behalf of tenant (empty for
// none). A nil req has a key too.
func Sum(model, tenant string, req *cpv1.InferRequest) Key {
	var b Builder
	b.Start(model, tenant, req.GetModel(), len(req.GetMessages()))
	for _, m := range req.GetMessages() {
		b.Message(m.GetRole(), len(m.GetContent()))
		for _, p := range m.GetContent() {
			switch v := p.GetPart().(type) {
			case *cpv1.ContentPart_Text:
				b.Text(v.Text)
			case *cpv1.ContentPart_ImagePng:
				b.Image(sha256.Sum256(v.ImagePng))
			default:
				b.Empty()
			}
		}
	}
	return b.Params(req.GetParams())
}

// Builder computes a key piece by piece, for callers that hold a request's
// images as digests rather than bytes (a recorded request). Calls must come
// in the order of the request: Start; for each message, Message and then
// one of Text, Image or Empty per part; then Params, which returns the key.
// The key then equals Sum's for the same request. The zero Builder is ready
// for Start; calls out of order give a key no request has, never a panic.
type Builder struct {
	e encoder
}

// Start begins a key: the routed model name, the tenant, the request's own
// model field and its number of messages.
func (b *Builder) Start(model, tenant, reqModel string, messages int) {
	b.e.h = sha256.New()
	b.e.str(version)
	b.e.str(model)
	b.e.str(tenant)
	b.e.str(reqModel)
	b.e.uint(uint64(max(messages, 0)))
}

// Message begins a message of role with parts content parts.
func (b *Builder) Message(role string, parts int) {
	b.e.str(role)
	b.e.uint(uint64(max(parts, 0)))
}

// Text adds a text part.
func (b *Builder) Text(s string) {
	b.e.tag(tagText)
	b.e.str(s)
}

// Image adds an image part by the sha256 of its PNG bytes.
func (b *Builder) Image(digest [sha256.Size]byte) {
	b.e.tag(tagImage)
	b.e.write(digest[:])
}

// Empty adds a part that is neither text nor image.
func (b *Builder) Empty() { b.e.tag(tagEmpty) }

// Params adds the sampling parameters (nil: none set) and returns the key.
func (b *Builder) Params(p *cpv1.InferParams) Key {
	b.e.uint(uint64(uint32(p.GetMaxTokens())))
	b.e.optFloat(p != nil && p.Temperature != nil, p.GetTemperature())
	b.e.optFloat(p != nil && p.TopP != nil, p.GetTopP())
	b.e.optFloat(p != nil && p.FrequencyPenalty != nil, p.GetFrequencyPenalty())
	b.e.uint(uint64(len(p.GetStop())))
	for _, s := range p.GetStop() {
		b.e.str(s)
	}
	var k Key
	if b.e.h != nil {
		b.e.h.Sum(k[:0])
	}
	b.e.h = nil
	return k
}

// Deterministic reports whether a model answers req the same every time:
// its temperature is unset (the adapters' default for AutoGLM is 0) or 0.
// Only such requests may be cached; replaying a sampled reply would hide
// the variation the caller asked for.
func Deterministic(req *cpv1.InferRequest) bool {
	p := req.GetParams()
	return p == nil || p.Temperature == nil || p.GetTemperature() == 0
}

// encoder writes the length-prefixed encoding into a hash.
type encoder struct {
	h   hash.Hash
	buf [256]byte
}

// write hashes p; before Start (no hash yet) it does nothing.
func (e *encoder) write(p []byte) {
	if e.h != nil {
		e.h.Write(p)
	}
}

func (e *encoder) uint(n uint64) {
	e.write(e.buf[:binary.PutUvarint(e.buf[:], n)])
}

// str writes len(s) and s, copying through buf so that no copy of a long
// prompt is allocated.
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	for len(s) > 0 {
		n := copy(e.buf[:], s)
		e.write(e.buf[:n])
		s = s[n:]
	}
}

func (e *encoder) tag(t byte) {
	e.buf[0] = t
	e.write(e.buf[:1])
}

// optFloat writes presence, then the value; -0 is written as 0.
func (e *encoder) optFloat(set bool, f float32) {
	if !set {
		e.tag(0)
		return
	}
	if f == 0 {
		f = 0
	}
	e.tag(1)
	e.uint(uint64(math.Float32bits(f)))
}
