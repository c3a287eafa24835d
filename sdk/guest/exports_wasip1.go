//go:build wasip1

package guest

import (
	"runtime"
	"unsafe"
)

// bufs are this instance's request and reply buffers.
var bufs buffers

//go:wasmexport cp_abi_version
func cpABIVersion() uint32 { return ABIVersion }

//go:wasmexport cp_malloc
func cpMalloc(size uint32) uint32 {
	buf := bufs.alloc(size)
	if buf == nil {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
}

//go:wasmexport cp_free
func cpFree(ptr uint32) {
	if ptr != 0 && ptr == addr(bufs.in) {
		bufs.free()
	}
}

//go:wasmexport cp_describe
func cpDescribe() uint64 { return pack(bufs.serve(describe, nil)) }

//go:wasmexport cp_configure
func cpConfigure(ptr, size uint32) uint64 { return call(configure, ptr, size) }

//go:wasmexport cp_plan
func cpPlan(ptr, size uint32) uint64 { return call(plan, ptr, size) }

//go:wasmexport cp_infer
func cpInfer(ptr, size uint32) uint64 { return call(infer, ptr, size) }

// call serves h with the request the host wrote at ptr, which must lie in
// the cp_malloc buffer.
func call(h handler, ptr, size uint32) uint64 {
	if ptr == 0 || ptr != addr(bufs.in) || int(size) > cap(bufs.in) {
		return pack(bufs.serve(badRequest, nil))
	}
	reply := bufs.serve(h, bufs.in[:size])
	// Let the garbage collector's background workers run: between calls
	// the Go runtime is paused, and if the goroutine serving the calls
	// never yields, a GC cycle never finishes and the heap only grows.
	// A yield costs about a microsecond, so it comes every YieldEvery
	// calls, and after any call with a large request (which allocates as
	// much).
	if callsSinceYield++; callsSinceYield >= YieldEvery || size > yieldRequestSize {
		callsSinceYield = 0
		runtime.Gosched()
	}
	return pack(reply)
}

// callsSinceYield counts calls since the last runtime.Gosched.
var callsSinceYield int

func badRequest([]byte) (message, error) { return nil, errBadRequest }

func addr(b []byte) uint32 {
	if cap(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

func pack(b []byte) uint64 { return uint64(addr(b))<<32 | uint64(len(b)) }
