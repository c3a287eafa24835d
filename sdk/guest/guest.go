package guest

import (
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// ABIVersion is the version of the wasm ABI described in the package
// documentation, returned by cp_abi_version.
const ABIVersion = 1

// MaxRequestSize is the largest request cp_malloc hands out a buffer for.
const MaxRequestSize = 64 << 20

// KeepBufferSize is the largest request or reply buffer kept between calls.
// A bigger one is dropped after use, so one large call does not pin memory.
const KeepBufferSize = 1 << 20

// YieldEvery is how many calls run between two yields to the Go scheduler
// (runtime.Gosched), which let the garbage collector finish its cycles.
// A call whose request is larger than 64 KiB also yields.
const YieldEvery = 16

// yieldRequestSize is the request size above which a call always yields.
const yieldRequestSize = 64 << 10

// Planner is implemented by planner plugins. Plan is a pure function: all
// the state it needs travels in the request (PlanRequest.State carries the
// planner's own state from the previous step).
type Planner interface {
	Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error)
}

// Model is implemented by model plugins that run inside the module (small
// local models). Infer returns the whole reply as one chunk; the SDK sets
// Done on it.
type Model interface {
	Infer(req *cpv1.InferRequest) (*cpv1.InferChunk, error)
}

// Configurer is implemented by plugins that take settings. Configure gets
// the plugin's plugins.config.<name> section as a JSON object, after load
// and whenever the section changes; an error rejects the new settings and
// the host keeps the previous ones.
type Configurer interface {
	Configure(configJSON []byte) error
}

// ZeroCopier is implemented by planners and models that keep nothing of a
// request after Plan or Infer returns (first-party planners are pure
// functions and do). Their requests are decoded without copying: strings
// and byte fields alias the instance's request buffer, which the next call
// overwrites, so a value kept past the call must be copied first
// (strings.Clone, bytes.Clone). The request message itself, its
// Observation and the Observation's Screen are reused by the next call
// too, so a pointer to them must not be kept either. It saves an
// allocation per field and per message; for a 4 KiB UI tree that is about
// 3 µs of a 9 µs call. Returning false, or not implementing it, keeps the
// copying decoder and fresh messages.
type ZeroCopier interface {
	ZeroCopyRequests() bool
}

// registration is what the one Register call recorded.
type registration struct {
	info    *cpv1.PluginInfo
	planner Planner
	model   Model
	config  Configurer
	// zeroCopy decodes requests with UnmarshalVTUnsafe (see ZeroCopier).
	zeroCopy bool
	// err is reported by cp_describe instead of the info, e.g. when
	// Register was called twice.
	err string
}

var reg registration

// RegisterPlanner registers p as this module's planner. It is called once,
// from an init function of the main package. The SDK sets info.Kind and
// the contract version; info.Name must match [a-z0-9][a-z0-9._-]*. If p
// implements Configurer, it receives the plugin's settings.
func RegisterPlanner(info *cpv1.PluginInfo, p Planner) {
	register(info, cpv1.PluginKind_PLUGIN_KIND_PLANNER, p, nil)
}

// RegisterModel registers m as this module's model. It is called once, from
// an init function of the main package. The SDK sets info.Kind and the
// contract version. If m implements Configurer, it receives the plugin's
// settings.
func RegisterModel(info *cpv1.PluginInfo, m Model) {
	register(info, cpv1.PluginKind_PLUGIN_KIND_MODEL, nil, m)
}

func register(info *cpv1.PluginInfo, kind cpv1.PluginKind, p Planner, m Model) {
	switch {
	case reg.info != nil:
		reg.err = "guest: register called more than once"
		return
	case info == nil:
		reg.err = "guest: register called with nil info"
		return
	case p == nil && m == nil:
		reg.err = "guest: register called with a nil implementation"
		return
	}
	in := &cpv1.PluginInfo{
		Name:          info.GetName(),
		Kind:          kind,
		Version:       info.GetVersion(),
		ContractMajor: cpv1.ContractMajor,
		ContractMinor: cpv1.ContractMinor,
		Capabilities:  append([]string(nil), info.GetCapabilities()...),
		Description:   info.GetDescription(),
	}
	reg.info, reg.planner, reg.model = in, p, m
	var impl any = m
	if p != nil {
		impl = p
	}
	reg.config, _ = impl.(Configurer)
	if zc, ok := impl.(ZeroCopier); ok {
		reg.zeroCopy = zc.ZeroCopyRequests()
	}
}
