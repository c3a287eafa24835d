// Command parts is planner-hello's planner plus exports that each do one
// piece of what cp_plan does, so that BenchmarkCallParts can attribute the
// cost of a call: entering the guest, yielding, decoding the request,
// encoding the reply. They are not part of the ABI. Every export that
// allocates yields at its end, as cp_plan does, so that the garbage
// collector keeps up and the heap stays the same size; subtract
// parts_gosched to get the work alone.
package main

import (
	"runtime"
	"unsafe"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

// Plan is planner-hello's logic for a request that is not "hello".
func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return plan(req), nil
}

func plan(req *cpv1.PlanRequest) *cpv1.PlanResponse {
	s := req.GetObservation().GetScreen()
	return &cpv1.PlanResponse{
		Thinking: "tap the center of the screen",
		Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{
			Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: s.GetWidth() / 2, Y: s.GetHeight() / 2},
		}},
	}
}

func init() { guest.RegisterPlanner(&cpv1.PluginInfo{Name: "test-parts", Version: "1"}, planner{}) }

func main() {}

// reqBuf holds the request, written by the host at the address parts_buf
// returned.
var reqBuf []byte

//go:wasmexport parts_buf
func partsBuf(size uint32) uint32 {
	reqBuf = make([]byte, size)
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(reqBuf))))
}

func in(size uint32) []byte { return reqBuf[:size] }

var (
	out  []byte
	sink any
	resp = plan(&cpv1.PlanRequest{Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}})
)

//go:wasmexport parts_nop
func partsNop() {}

//go:wasmexport parts_gosched
func partsGosched() { runtime.Gosched() }

//go:wasmexport parts_alloc
func partsAlloc(size uint32) {
	sink = make([]byte, size)
	runtime.Gosched()
}

//go:wasmexport parts_unmarshal_vt
func partsUnmarshalVT(size uint32) {
	req := new(cpv1.PlanRequest)
	_ = req.UnmarshalVT(in(size))
	sink = req
	runtime.Gosched()
}

//go:wasmexport parts_plan
func partsPlan() {
	sink = plan(&cpv1.PlanRequest{Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}})
	runtime.Gosched()
}

//go:wasmexport parts_marshal_vt
func partsMarshalVT() {
	n := resp.SizeVT()
	out = append(out[:0], make([]byte, n)...)
	_, _ = resp.MarshalToSizedBufferVT(out)
	runtime.Gosched()
}

// The exports below do their part without yielding, so that
// BenchmarkCallParts sees what one call's share costs; the calls between
// yields of the real cp_plan are few, so the garbage collector's work is
// included only as far as it runs meanwhile.

//go:wasmexport parts_unmarshal_vt_unsafe
func partsUnmarshalVTUnsafe(size uint32) {
	req := new(cpv1.PlanRequest)
	_ = req.UnmarshalVTUnsafe(in(size))
	sink = req
}

// reused is the request parts_unmarshal_reuse decodes into.
var reused = new(cpv1.PlanRequest)

//go:wasmexport parts_unmarshal_reuse
func partsUnmarshalReuse(size uint32) {
	*reused = cpv1.PlanRequest{}
	_ = reused.UnmarshalVTUnsafe(in(size))
}

//go:wasmexport parts_plan_only
func partsPlanOnly() {
	sink = plan(&cpv1.PlanRequest{Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}})
}

//go:wasmexport parts_marshal_vt_only
func partsMarshalVTOnly() {
	n := resp.SizeVT()
	out = append(out[:0], make([]byte, n)...)
	_, _ = resp.MarshalToSizedBufferVT(out)
}
