package guest

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Field numbers of cloudphone.v1.GuestReply. The reply wrapper is written
// with protowire so that the response is encoded once, straight into the
// reply buffer; everything inside payload is ordinary protobuf.
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

// handler serves one exported call: it decodes in and returns the response.
type handler func(in []byte) (proto.Message, error)

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
func appendPayload(out []byte, msg proto.Message) []byte {
	n := proto.Size(msg)
	out = protowire.AppendTag(out, replyPayloadField, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(n))
	res, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(out, msg)
	if err != nil {
		return appendError(out[:0], "encode reply: "+err.Error())
	}
	return res
}

// appendError appends a GuestReply whose error is msg.
func appendError(out []byte, msg string) []byte {
	if msg == "" {
		msg = "unknown error"
	}
	out = protowire.AppendTag(out, replyErrorField, protowire.BytesType)
	return protowire.AppendString(out, msg)
}

func describe([]byte) (proto.Message, error) {
	switch {
	case reg.err != "":
		return nil, errors.New(reg.err)
	case reg.info == nil:
		return nil, errors.New("guest: no plugin registered; call guest.RegisterPlanner or guest.RegisterModel from an init function")
	}
	return reg.info, nil
}

func configure(in []byte) (proto.Message, error) {
	req := new(cpv1.ConfigureRequest)
	if err := proto.Unmarshal(in, req); err != nil {
		return nil, fmt.Errorf("decode configure request: %w", err)
	}
	if reg.config != nil {
		if err := reg.config.Configure(req.GetConfigJson()); err != nil {
			return nil, err
		}
	}
	return new(cpv1.ConfigureResponse), nil
}

func plan(in []byte) (proto.Message, error) {
	if reg.planner == nil {
		return nil, errors.New("guest: this plugin is not a planner")
	}
	req := new(cpv1.PlanRequest)
	if err := proto.Unmarshal(in, req); err != nil {
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

func infer(in []byte) (proto.Message, error) {
	if reg.model == nil {
		return nil, errors.New("guest: this plugin is not a model")
	}
	req := new(cpv1.InferRequest)
	if err := proto.Unmarshal(in, req); err != nil {
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

// protoMessage is proto.Message, named for files that do not import proto.
type protoMessage = proto.Message

var errBadRequest = errors.New("guest: request is not in the buffer returned by cp_malloc")
