// Command contract2 implements the guest ABI by hand, without sdk/guest,
// and describes itself as built for contract major version 2, which the
// host must refuse.
package main

import (
	"unsafe"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var in, out []byte

//go:wasmexport cp_abi_version
func abiVersion() uint32 { return 1 }

//go:wasmexport cp_malloc
func malloc(size uint32) uint32 {
	in = make([]byte, size+1)
	return uint32(uintptr(unsafe.Pointer(&in[0])))
}

//go:wasmexport cp_free
func free(uint32) { in = nil }

//go:wasmexport cp_describe
func describe() uint64 {
	info, _ := (&cpv1.PluginInfo{
		Name: "test-contract2", Kind: cpv1.PluginKind_PLUGIN_KIND_PLANNER,
		Version: "1", ContractMajor: 2,
	}).MarshalVT()
	out, _ = (&cpv1.GuestReply{Payload: info}).MarshalVT()
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}

//go:wasmexport cp_plan
func plan(ptr, size uint32) uint64 {
	out, _ = (&cpv1.GuestReply{Error: "not implemented"}).MarshalVT()
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}

func main() {}
