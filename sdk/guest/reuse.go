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
// of wire type bytes and, inside any occurrence of it, the field inner. A
// malformed b reports what was found before the fault; decoding b then
// fails anyway.
func fieldsPresent(b []byte, outer, inner protowire.Number) (hasOuter, hasInner bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if num == outer && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			hasOuter = true
			hasInner = hasInner || hasField(v, inner)
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return
		}
		b = b[m:]
	}
	return
}

// hasField reports whether the encoded message b has field num.
func hasField(b []byte, num protowire.Number) bool {
	for len(b) > 0 {
		n, typ, k := protowire.ConsumeTag(b)
		if k < 0 {
			return false
		}
		if n == num {
			return true
		}
		b = b[k:]
		m := protowire.ConsumeFieldValue(n, typ, b)
		if m < 0 {
			return false
		}
		b = b[m:]
	}
	return false
}
