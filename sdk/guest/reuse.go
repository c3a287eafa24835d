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
	for len(b) > 0 {
		typ, start, end, ok := findField(b, outer)
		if !ok {
			return
		}
		if typ == protowire.BytesType {
			hasOuter = true
			if _, _, _, ok := findField(b[start:end], inner); ok {
				return true, true // a later occurrence can add, never take away
			}
		}
		b = b[end:]
	}
	return
}

// findField finds the first field num of the encoded message b: its wire
// type, where its value starts, and where the field ends (for a bytes
// field, b[start:end] is its value). ok is false if b has none before its
// end or a fault.
//
// It is protowire.ConsumeTag and ConsumeFieldValue in one loop with the
// common one- and two-byte varints decoded in line: in a wasm guest every
// function call costs, and this scan runs before every request is decoded.
func findField(b []byte, num protowire.Number) (typ protowire.Type, start, end int, ok bool) {
	for i := 0; i < len(b); {
		var tag uint64
		if c := b[i]; c < 0x80 {
			tag, i = uint64(c), i+1
		} else {
			v, n := protowire.ConsumeVarint(b[i:])
			if n < 0 {
				return 0, 0, 0, false
			}
			tag, i = v, i+n
		}
		n, t := protowire.Number(tag>>3), protowire.Type(tag&7)
		if n == 0 {
			return 0, 0, 0, false
		}
		start = i
		switch t {
		case protowire.VarintType:
			for {
				if i >= len(b) {
					return 0, 0, 0, false
				}
				c := b[i]
				i++
				if c < 0x80 {
					break
				}
			}
		case protowire.Fixed32Type:
			i += 4
		case protowire.Fixed64Type:
			i += 8
		case protowire.BytesType:
			var size uint64
			switch {
			case i < len(b) && b[i] < 0x80:
				size, i = uint64(b[i]), i+1
			case i+1 < len(b) && b[i+1] < 0x80:
				size, i = uint64(b[i]&0x7f)|uint64(b[i+1])<<7, i+2
			default:
				v, k := protowire.ConsumeVarint(b[i:])
				if k < 0 {
					return 0, 0, 0, false
				}
				size, i = v, i+k
			}
			if size > uint64(len(b)-i) {
				return 0, 0, 0, false
			}
			start = i
			i += int(size)
		default: // groups, which proto3 does not use
			k := protowire.ConsumeFieldValue(n, t, b[i:])
			if k < 0 {
				return 0, 0, 0, false
			}
			i += k
		}
		if i > len(b) {
			return 0, 0, 0, false
		}
		if n == num {
			return t, start, i, true
		}
	}
	return 0, 0, 0, false
}
