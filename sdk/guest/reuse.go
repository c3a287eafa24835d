package guest

import (
	"google.golang.org/protobuf/encoding/protowire"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Request messages reused from call to call. A ZeroCopier keeps nothing
// of a request past its call, so the SDK decodes every request into the
// same messages: a call then allocates only what the plugin itself does,
// and the guest's garbage collector, which a wasm guest runs on the
// calling goroutine between calls, has that much less to do. A wasm
// instance serves one call at a time, so one set suffices.
//
// Field presence stays exact: a reused sub-message is attached only when
// the request carries that field, found by a scan of the request's top
// level (and of its observation), so GetObservation() and GetScreen()
// return nil exactly when a freshly decoded request would.
//
// reuseRequests turns it off when not "on": benchmarks build a module with
// -ldflags "-X github.com/openautoglm/cloudphone/sdk/guest.reuseRequests=off"
// to measure what it saves in the same process. Plugins leave it alone.
var reuseRequests = "on"

var reuse struct {
	plan   cpv1.PlanRequest
	obs    cpv1.Observation
	screen cpv1.ScreenSize
	infer  cpv1.InferRequest
}

// Field numbers of the sub-messages reuse keeps.
const (
	planObservationField protowire.Number = 4
	observationScreen    protowire.Number = 5
)

// reusedPlanRequest empties the reused PlanRequest, attaches the reused
// observation and screen when in carries them, and returns it for in to
// be decoded into.
func reusedPlanRequest(in []byte) *cpv1.PlanRequest {
	r := &reuse
	r.plan = cpv1.PlanRequest{}
	obs, screen := fieldsPresent(in, planObservationField, observationScreen)
	if obs {
		r.obs = cpv1.Observation{}
		r.plan.Observation = &r.obs
		if screen {
			r.screen = cpv1.ScreenSize{}
			r.obs.Screen = &r.screen
		}
	}
	return &r.plan
}

// reusedInferRequest empties the reused InferRequest and returns it.
func reusedInferRequest() *cpv1.InferRequest {
	reuse.infer = cpv1.InferRequest{}
	return &reuse.infer
}

// fieldsPresent reports whether the encoded message b has the field outer
// of wire type bytes and, inside any occurrence of it, the field inner. It
// stops as soon as it has found both, so a request with an observation and
// a screen is scanned only up to them, not through its history. A
// malformed b reports what was found before the fault; decoding b then
// fails anyway.
func fieldsPresent(b []byte, outer, inner protowire.Number) (hasOuter, hasInner bool) {
	for i := 0; i < len(b); {
		num, typ, start, end, ok := nextField(b, i)
		if !ok {
			return
		}
		if num == outer && typ == protowire.BytesType {
			hasOuter = true
			if hasInner = hasInner || hasField(b[start:end], inner); hasInner {
				return // a later occurrence can add, never take away
			}
		}
		i = end
	}
	return
}

// hasField reports whether the encoded message b has field num.
func hasField(b []byte, num protowire.Number) bool {
	for i := 0; i < len(b); {
		n, _, _, end, ok := nextField(b, i)
		if !ok {
			return false
		}
		if n == num {
			return true
		}
		i = end
	}
	return false
}

// nextField reads the field that starts at b[i]: its number and wire type,
// where its value starts, and where the field ends (for a bytes field,
// b[start:end] is its value). ok is false at a fault.
//
// It is the scan of protowire.ConsumeTag and ConsumeFieldValue in one
// function with the common one-byte varints decoded in line: in a wasm
// guest every function call costs, and this scan runs before every
// request is decoded.
func nextField(b []byte, i int) (num protowire.Number, typ protowire.Type, start, end int, ok bool) {
	tag, i, ok := uvarint(b, i)
	if !ok || tag>>3 == 0 {
		return 0, 0, 0, 0, false
	}
	num, typ = protowire.Number(tag>>3), protowire.Type(tag&7)
	switch typ {
	case protowire.VarintType:
		for {
			if i >= len(b) {
				return 0, 0, 0, 0, false
			}
			c := b[i]
			i++
			if c < 0x80 {
				break
			}
		}
		return num, typ, i, i, true
	case protowire.Fixed32Type:
		i += 4
	case protowire.Fixed64Type:
		i += 8
	case protowire.BytesType:
		n, j, ok := uvarint(b, i)
		if !ok || n > uint64(len(b)-j) {
			return 0, 0, 0, 0, false
		}
		return num, typ, j, j + int(n), true
	default: // groups, which proto3 does not use
		m := protowire.ConsumeFieldValue(num, typ, b[i:])
		if m < 0 {
			return 0, 0, 0, 0, false
		}
		i += m
	}
	if i > len(b) {
		return 0, 0, 0, 0, false
	}
	return num, typ, i, i, true
}

// uvarint decodes the varint at b[i], returning it and the index after it.
func uvarint(b []byte, i int) (v uint64, next int, ok bool) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, true
	}
	if i >= len(b) {
		return 0, i, false
	}
	v, n := protowire.ConsumeVarint(b[i:])
	if n < 0 {
		return 0, i, false
	}
	return v, i + n, true
}
