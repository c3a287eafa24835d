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
	e := encoder{h: sha256.New()}
	e.str(version)
	e.str(model)
	e.str(tenant)
	e.str(req.GetModel())
	e.uint(uint64(len(req.GetMessages())))
	for _, m := range req.GetMessages() {
		e.str(m.GetRole())
		e.uint(uint64(len(m.GetContent())))
		for _, p := range m.GetContent() {
			switch v := p.GetPart().(type) {
			case *cpv1.ContentPart_Text:
				e.tag(tagText)
				e.str(v.Text)
			case *cpv1.ContentPart_ImagePng:
				e.tag(tagImage)
				d := sha256.Sum256(v.ImagePng)
				e.h.Write(d[:])
			default:
				e.tag(tagEmpty)
			}
		}
	}
	p := req.GetParams()
	e.uint(uint64(uint32(p.GetMaxTokens())))
	e.optFloat(p != nil && p.Temperature != nil, p.GetTemperature())
	e.optFloat(p != nil && p.TopP != nil, p.GetTopP())
	e.optFloat(p != nil && p.FrequencyPenalty != nil, p.GetFrequencyPenalty())
	e.uint(uint64(len(p.GetStop())))
	for _, s := range p.GetStop() {
		e.str(s)
	}
	var k Key
	e.h.Sum(k[:0])
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

func (e *encoder) uint(n uint64) {
	e.h.Write(e.buf[:binary.PutUvarint(e.buf[:], n)])
}

// str writes len(s) and s, copying through buf so that no copy of a long
// prompt is allocated.
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	for len(s) > 0 {
		n := copy(e.buf[:], s)
		e.h.Write(e.buf[:n])
		s = s[n:]
	}
}

func (e *encoder) tag(t byte) {
	e.buf[0] = t
	e.h.Write(e.buf[:1])
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
