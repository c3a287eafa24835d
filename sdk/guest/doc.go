// Package guest is the SDK for cloudphone plugins that run as WebAssembly
// modules inside the host's wazero runtime. It is imported by a plugin's main
// package, which is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o planner-x.wasm .
//
// A plugin author implements Planner (or Model), optionally Configurer, and
// registers it once from an init function:
//
//	type hello struct{}
//
//	func (hello) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) { ... }
//
//	func init() {
//		guest.RegisterPlanner(&cpv1.PluginInfo{Name: "planner-hello", Version: "0.1.0"}, hello{})
//	}
//
//	func main() {}
//
// The SDK fills PluginInfo.Kind and the contract version, exports the wasm
// functions below, turns panics in plugin code into error replies, and keeps
// its request and reply buffers between calls so that a steady stream of calls
// does not grow the guest's memory.
//
// This package is not the host: loading, pooling, deadlines and the sandbox
// live in core/pluginhost/wasmrt. It is also not a general wasm ABI; it
// speaks only the cloudphone contract (sdk/proto/cloudphone/v1).
//
// # The wasm ABI (version 1)
//
// This section is the contract between a guest module and the host. A module
// built with another toolchain may implement it by hand.
//
// The module is a WASI preview 1 reactor: it exports _initialize, which the
// host calls once after instantiation (it runs the Go runtime and the
// package init functions, and so the registration). It imports only
// wasi_snapshot_preview1, and the host grants it no files, sockets,
// environment or arguments, fake clocks and a deterministic random source.
//
// The module must import wasi_snapshot_preview1.sched_yield (Go guests
// always do): the host rewrites every loop header of the module to call it
// every 65,536 iterations, and stops a call that is past its deadline from
// there.
//
// All integers are little-endian wasm i32/i64. A "packed reply" is an i64
// holding ptr<<32 | len: the address and length, in the module's linear
// memory, of a protobuf-encoded cloudphone.v1.GuestReply in which exactly one
// of payload (the encoded response message) or error is set. A packed reply
// stays valid until the next call into the module; the host copies what it
// needs before calling again.
//
//	cp_abi_version() -> i32
//	    The ABI version, ABIVersion (1). The host refuses other versions.
//
//	cp_malloc(size i32) -> i32
//	    Returns the address of a buffer of at least size bytes for the host
//	    to write a request into. The buffer belongs to the host until the
//	    next cp_malloc or cp_free, so a host may keep the address and reuse
//	    it for any later request of at most size bytes without calling
//	    cp_malloc again. It returns 0 when size exceeds MaxRequestSize.
//
//	cp_free(ptr i32)
//	    Releases the buffer returned by cp_malloc. The SDK keeps small
//	    buffers (up to KeepBufferSize) for reuse and drops larger ones, so a
//	    host calls it after an unusually large request.
//
//	cp_describe() -> i64 (packed reply)
//	    payload: cloudphone.v1.PluginInfo.
//
//	cp_configure(ptr i32, len i32) -> i64 (packed reply)
//	    Request: cloudphone.v1.ConfigureRequest at ptr (the cp_malloc buffer).
//	    payload: cloudphone.v1.ConfigureResponse (empty).
//
//	cp_plan(ptr i32, len i32) -> i64 (packed reply)
//	    Request: cloudphone.v1.PlanRequest. payload: cloudphone.v1.PlanResponse.
//
//	cp_infer(ptr i32, len i32) -> i64 (packed reply)
//	    Request: cloudphone.v1.InferRequest. payload: one
//	    cloudphone.v1.InferChunk holding the whole reply, with done set.
//
// cp_abi_version, cp_malloc and cp_describe are required; cp_plan is
// required of a planner and cp_infer of a model; cp_free and cp_configure
// are optional (without cp_configure, settings are ignored). The SDK
// exports all of them.
//
// Messages are ordinary protobuf. The SDK encodes and decodes them with the
// reflection-free code generated next to the contract
// (sdk/proto/cloudphone/v1/plugin_vtproto.pb.go; in a wasm build the types
// themselves come from plugin_lite.pb.go, without protobuf-go's runtime,
// which would double the module's size), which, unlike
// protobuf-go, does not check that strings are valid UTF-8: a plugin
// receives a request's strings as the host's caller wrote them, and the
// host refuses a reply whose strings are not UTF-8 as a plugin error.
//
// A call that the plugin cannot serve (an unknown kind, a request that does
// not decode, an error or a panic in plugin code) returns a GuestReply with
// error set; it never traps. Only a fatal runtime error (out of memory, a
// deadlock, a stack overflow) ends the module, and the host then discards
// that instance and starts a fresh one.
//
// # Memory
//
// Go's wasm memory only grows. The SDK reuses one request buffer and one
// reply buffer per instance, drops them when a single call made them larger
// than KeepBufferSize, and otherwise allocates only what decoding the request
// and the plugin itself allocate. Go's garbage collector reclaims that only
// if its background workers get to run, and between calls the Go runtime is
// paused: so the SDK yields (runtime.Gosched) after every YieldEvery-th call
// and after every call with a request over 64 KiB. A yield costs about a
// microsecond; between two of them the heap grows by what those calls
// allocate, and the collector's assists keep marking meanwhile. Without
// yields a Go guest's memory grows by about 0.7 KiB per 4 KiB call, without
// bound (40 MiB after 60,000 calls); with them, it stays at its size after
// warm-up (10.5 MiB after 1,000,000 calls, measured by wasmrt's
// BenchmarkGuestMemory). The host still recycles an instance after a number
// of calls or when its memory passes a threshold (see wasmrt.Options), which
// bounds memory whatever the plugin does.
//
// # Zero-copy requests
//
// By default decoding a request copies every string and bytes field out of
// the request buffer. A plugin that keeps nothing of a request once Plan or
// Infer returns can implement ZeroCopier: its requests are then decoded in
// place, the fields aliasing the request buffer that the next call
// overwrites. For a 4 KiB UI tree that saves about 3 µs of a 9 µs call.
// A plugin that caches something from a request (a parsed instruction, say)
// copies it first with strings.Clone; planner-intent does. Its requests
// are also decoded into the same messages on every call (the request, its
// Observation and the Observation's Screen), so a pointer to them must not
// be kept either; a call then allocates only what the plugin does.
package guest
