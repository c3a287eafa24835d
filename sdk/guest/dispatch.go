package guest

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Field numbers of cloudphone.v1.GuestReply. The reply wrapper is written
// with protowire so that the response is encoded once, straight into the
// reply buffer; everything inside payload is ordinary protobuf.
//
// Requests and responses are decoded and encoded with the generated,
// reflection-free code of sdk/proto (UnmarshalVT, SizeVT,
// MarshalToSizedBufferVT): in a wasm guest, protobuf-go's reflection costs
// several times more than the plugin's own work on a typical request. Like
// any generated protobuf code other than protobuf-go's, it does not check
// that strings are valid UTF-8; the host checks the replies.
const (
	replyPayloadField protowire.Number = 1
	replyErrorField   protowire.Number = 2
)

// buffers are the request and reply buffers of one module instance. A wasm
// instance runs one call at a time, so one of each suffices.
type buffers struct {
	in  []byte
	out []byte
}

// alloc returns a request buffer of size bytes, reusing the previous one
// when it is large enough.
func (b *buffers) alloc(size uint32) []byte {
	if size > MaxRequestSize {
		return nil
	}
	n := int(size)
	if n == 0 {
		n = 1 // so the buffer has an address
	}
	if cap(b.in) < n {
		b.in = make([]byte, n)
	}
	return b.in[:cap(b.in)]
}

// free drops the request buffer if it is larger than KeepBufferSize.
func (b *buffers) free() {
	if cap(b.in) > KeepBufferSize {
		b.in = nil
	}
}

// reply returns the reply buffer, emptied, dropping it first if the last
// reply made it larger than KeepBufferSize.
func (b *buffers) reply() []byte {
	if cap(b.out) > KeepBufferSize {
		b.out = nil
	}
	return b.out[:0]
}

// message is a message of sdk/proto with its generated encoder.
type message interface {
	SizeVT() int
	MarshalToSizedBufferVT(dAtA []byte) (int, error)
}

// handler serves one exported call: it decodes in and returns the response.
type handler func(in []byte) (message, error)

// serve runs h and encodes its result, or its error or panic, as a
// GuestReply into b.out, which it returns.
func (b *buffers) serve(h handler, in []byte) (out []byte) {
	out = b.reply()
	defer func() {
		if r := recover(); r != nil {
			out = appendError(out[:0], fmt.Sprintf("panic: %v", r))
		}
		b.out = out
	}()
	msg, err := h(in)
	if err != nil {
		return appendError(out, err.Error())
	}
	return appendPayload(out, msg)
}

// appendPayload appends a GuestReply whose payload is msg.
func appendPayload(out []byte, msg message) []byte {
	n := msg.SizeVT()
	out = protowire.AppendTag(out, replyPayloadField, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(n))
	start := len(out)
	out = append(out, make([]byte, n)...) // no allocation when out has room
	if w, err := msg.MarshalToSizedBufferVT(out[start:]); err != nil || w != n {
		if err == nil {
			err = fmt.Errorf("wrote %d bytes of %d", w, n)
		}
		return appendError(out[:0], "encode reply: "+err.Error())
	}
	return out
}

// appendError appends a GuestReply whose error is msg.
func appendError(out []byte, msg string) []byte {
	if msg == "" {
		msg = "unknown error"
	}
	out = protowire.AppendTag(out, replyErrorField, protowire.BytesType)
	return protowire.AppendString(out, msg)
}

func describe([]byte) (message, error) {
	switch {
	case reg.err != "":
		return nil, errors.New(reg.err)
	case reg.info == nil:
		return nil, errors.New("guest: no plugin registered; call guest.RegisterPlanner or guest.RegisterModel from an init function")
	}
	return reg.info, nil
}

func configure(in []byte) (message, error) {
	req := new(cpv1.ConfigureRequest)
	if err := req.UnmarshalVT(in); err != nil {
		return nil, fmt.Errorf("decode configure request: %w", err)
	}
	if reg.config != nil {
		if err := reg.config.Configure(req.GetConfigJson()); err != nil {
			return nil, err
		}
	}
	return new(cpv1.ConfigureResponse), nil
}

func plan(in []byte) (message, error) {
	if reg.planner == nil {
		return nil, errors.New("guest: this plugin is not a planner")
	}
	var req *cpv1.PlanRequest
	if reg.zeroCopy && reuseRequests == "on" {
		req = reusedPlanRequest(in)
	} else {
		req = new(cpv1.PlanRequest)
	}
	if err := decodeRequest(req, in); err != nil {
		return nil, fmt.Errorf("decode plan request: %w", err)
	}
	resp, err := reg.planner.Plan(req)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("planner returned a nil response")
	}
	return resp, nil
}

func infer(in []byte) (message, error) {
	if reg.model == nil {
		return nil, errors.New("guest: this plugin is not a model")
	}
	var req *cpv1.InferRequest
	if reg.zeroCopy && reuseRequests == "on" {
		req = reusedInferRequest()
	} else {
		req = new(cpv1.InferRequest)
	}
	if err := decodeRequest(req, in); err != nil {
		return nil, fmt.Errorf("decode infer request: %w", err)
	}
	chunk, err := reg.model.Infer(req)
	if err != nil {
		return nil, err
	}
	if chunk == nil {
		return nil, errors.New("model returned a nil chunk")
	}
	chunk.Done = true
	return chunk, nil
}

// decoder is a request message with its generated decoders.
type decoder interface {
	UnmarshalVT(dAtA []byte) error
	UnmarshalVTUnsafe(dAtA []byte) error
}

// decodeRequest decodes a request, aliasing in when the plugin is a
// ZeroCopier (whose requests are also reused messages, see reuse.go).
func decodeRequest(req decoder, in []byte) error {
	if reg.zeroCopy {
		return req.UnmarshalVTUnsafe(in)
	}
	return req.UnmarshalVT(in)
}

var errBadRequest = errors.New("guest: request is not in the buffer returned by cp_malloc")
