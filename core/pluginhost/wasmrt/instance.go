package wasmrt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Names of the functions a guest exports (the ABI of sdk/guest).
const (
	exportABIVersion = "cp_abi_version"
	exportMalloc     = "cp_malloc"
	exportFree       = "cp_free"
	exportDescribe   = "cp_describe"
	exportConfigure  = "cp_configure"
	exportPlan       = "cp_plan"
	exportInfer      = "cp_infer"
)

// abiVersion is the only guest ABI version this host speaks.
const abiVersion = 1

// Limits of the request buffer, as in sdk/guest.
const (
	maxRequestSize = 64 << 20
	keepBufferSize = 1 << 20
	minRequestBuf  = 8 << 10
)

// Errors of a call that ended its instance. The instance is discarded and
// the next call runs on a fresh one.
var (
	// ErrTimeout: the call ran past Options.CallTimeout.
	ErrTimeout = errors.New("call exceeded its deadline")
	// ErrTrapped: the guest trapped or exited (a fatal runtime error such
	// as out of memory, a wasm trap, a broken reply).
	ErrTrapped = errors.New("guest trapped")
)

// GuestError is an error the plugin returned for a call (including a panic
// the SDK recovered). The instance stays healthy.
type GuestError struct {
	Message string
}

func (e *GuestError) Error() string { return e.Message }

// call is an exported request/reply function of the ABI.
type call int

const (
	callDescribe call = iota
	callConfigure
	callPlan
	callInfer
	numCalls
)

var callExports = [numCalls]string{exportDescribe, exportConfigure, exportPlan, exportInfer}

// instance is one instantiated module. It serves one call at a time; the
// pool hands it to one caller at a time.
type instance struct {
	mod    api.Module
	mem    api.Memory
	fns    [numCalls]api.Function
	malloc api.Function
	free   api.Function
	out    *outputLog

	stack [2]uint64
	// inPtr and inCap are the guest buffer from cp_malloc.
	inPtr, inCap uint32
	// buf is the host's encoding buffer for messages without generated
	// encoder (see writeRequest).
	buf []byte

	calls  int
	cfgGen uint64

	// watch enforces the call deadline of an instrumented module (nil
	// with Options.CloseOnContextDone).
	watch *watch
	// cancel ends the call context in CloseOnContextDone mode.
	cancel context.CancelFunc
}

// watch is the state the guest's sched_yield checks: instrument makes
// every loop call it periodically. It runs on the goroutine of the call,
// so it needs no locking.
type watch struct {
	ctx      context.Context // nil between calls
	deadline time.Time
	fired    bool
}

// errInterrupted is what yield panics with; wazero returns it (wrapped)
// from the call.
var errInterrupted = errors.New("call interrupted")

// yield is the guest's wasi sched_yield. It stops the call, by panicking
// through the guest, once its deadline or context has passed.
func (w *watch) yield() {
	if w.ctx == nil || w.fired {
		return
	}
	if w.ctx.Err() != nil || time.Now().After(w.deadline) {
		w.fired = true
		panic(errInterrupted)
	}
}

func newInstance(mod api.Module, out *outputLog, w *watch) (*instance, error) {
	in := &instance{mod: mod, mem: mod.Memory(), out: out, watch: w}
	if in.mem == nil {
		return nil, errors.New("module exports no memory")
	}
	in.malloc = mod.ExportedFunction(exportMalloc)
	in.free = mod.ExportedFunction(exportFree)
	for c, name := range callExports {
		in.fns[c] = mod.ExportedFunction(name)
	}
	return in, nil
}

// abiVersion calls cp_abi_version.
func (in *instance) abiVersion(ctx context.Context) (uint32, error) {
	f := in.mod.ExportedFunction(exportABIVersion)
	if err := f.CallWithStack(ctx, in.stack[:]); err != nil {
		return 0, err
	}
	return uint32(in.stack[0]), nil
}

// invoke runs one exported call: it encodes req into the guest's request
// buffer, calls the export and decodes the reply's payload into resp. A
// non-nil error other than *GuestError means the instance must be
// discarded; ctx must carry the call's deadline.
func (in *instance) invoke(ctx context.Context, c call, req, resp proto.Message) error {
	fn := in.fns[c]
	if fn == nil && c == callConfigure {
		return nil // a module without settings need not export cp_configure
	}
	if fn == nil {
		return &GuestError{Message: "module does not export " + callExports[c]}
	}
	in.out.startCall()
	in.calls++
	if c == callDescribe {
		if err := fn.CallWithStack(ctx, in.stack[:]); err != nil {
			return err
		}
		return in.reply(in.stack[0], resp)
	}
	n, err := in.writeRequest(ctx, req)
	if err != nil {
		return err
	}
	in.stack[0], in.stack[1] = uint64(in.inPtr), uint64(n)
	if err := fn.CallWithStack(ctx, in.stack[:]); err != nil {
		return err
	}
	if err := in.reply(in.stack[0], resp); err != nil {
		return err
	}
	if in.inCap > keepBufferSize && in.free != nil {
		// Let the guest drop a buffer one large request made.
		in.stack[0] = uint64(in.inPtr)
		in.inPtr, in.inCap = 0, 0
		if err := in.free.CallWithStack(ctx, in.stack[:]); err != nil {
			return err
		}
	}
	return nil
}

// vtMessage is a message of sdk/proto with its generated, reflection-free
// encoder (plugin_vtproto.pb.go).
type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT(dAtA []byte) (int, error)
}

// writeRequest encodes req into the guest's request buffer, growing it
// first if needed, and returns its length. A message of sdk/proto is
// encoded by its generated code straight into guest memory; any other
// message by protobuf-go, through in.buf.
func (in *instance) writeRequest(ctx context.Context, req proto.Message) (uint32, error) {
	vt, ok := req.(vtMessage)
	if !ok {
		return in.writeRequestProto(ctx, req)
	}
	size := vt.SizeVT()
	if err := checkRequestSize(size); err != nil {
		return 0, err
	}
	n := uint32(size)
	if err := in.ensureBuffer(ctx, n); err != nil {
		return 0, err
	}
	view, ok := in.mem.Read(in.inPtr, n)
	if !ok {
		return 0, fmt.Errorf("%w: request buffer %#x+%d is outside memory", ErrTrapped, in.inPtr, n)
	}
	if w, err := vt.MarshalToSizedBufferVT(view); err != nil || w != size {
		if err == nil {
			err = fmt.Errorf("wrote %d bytes of %d", w, size)
		}
		return 0, &GuestError{Message: "encode request: " + err.Error()}
	}
	return n, nil
}

// writeRequestProto is writeRequest for a message without generated
// encoder.
func (in *instance) writeRequestProto(ctx context.Context, req proto.Message) (uint32, error) {
	buf, err := proto.MarshalOptions{}.MarshalAppend(in.buf[:0], req)
	if err != nil {
		return 0, &GuestError{Message: "encode request: " + err.Error()}
	}
	if cap(buf) <= keepBufferSize {
		in.buf = buf
	} else {
		in.buf = nil
	}
	if err := checkRequestSize(len(buf)); err != nil {
		return 0, err
	}
	n := uint32(len(buf))
	if err := in.ensureBuffer(ctx, n); err != nil {
		return 0, err
	}
	if !in.mem.Write(in.inPtr, buf) {
		return 0, fmt.Errorf("%w: request buffer %#x+%d is outside memory", ErrTrapped, in.inPtr, n)
	}
	return n, nil
}

// checkRequestSize refuses a request larger than the guest accepts.
func checkRequestSize(n int) error {
	if n > maxRequestSize {
		return &GuestError{Message: fmt.Sprintf("request is %d bytes, more than the %d allowed", n, maxRequestSize)}
	}
	return nil
}

// ensureBuffer makes the guest's request buffer at least n bytes.
func (in *instance) ensureBuffer(ctx context.Context, n uint32) error {
	if n <= in.inCap && in.inPtr != 0 {
		return nil
	}
	size := max(n, minRequestBuf)
	if size < keepBufferSize {
		// Round up to a power of two so a growing request size does not
		// reallocate every time.
		p := uint32(minRequestBuf)
		for p < size {
			p <<= 1
		}
		size = p
	}
	in.stack[0] = uint64(size)
	if err := in.malloc.CallWithStack(ctx, in.stack[:]); err != nil {
		return err
	}
	ptr := uint32(in.stack[0])
	if ptr == 0 {
		return &GuestError{Message: fmt.Sprintf("cp_malloc(%d) failed", size)}
	}
	in.inPtr, in.inCap = ptr, size
	return nil
}

// reply decodes the packed GuestReply at ptr<<32|len.
func (in *instance) reply(packed uint64, resp proto.Message) error {
	ptr, n := uint32(packed>>32), uint32(packed)
	view, ok := in.mem.Read(ptr, n)
	if !ok {
		return fmt.Errorf("%w: reply %#x+%d is outside memory", ErrTrapped, ptr, n)
	}
	payload, msg, err := decodeReply(view)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTrapped, err)
	}
	if msg != "" {
		return &GuestError{Message: msg}
	}
	u, ok := resp.(vtUnmarshaler)
	if !ok {
		// Unmarshal copies every string and bytes field out of guest
		// memory, and checks that strings are valid UTF-8.
		if err := proto.Unmarshal(payload, resp); err != nil {
			return fmt.Errorf("%w: decode reply: %v", ErrTrapped, err)
		}
		return nil
	}
	if err := decodeGenerated(payload, resp, u); err != nil {
		if ue := (*utf8Error)(nil); errors.As(err, &ue) {
			// The SDK's generated encoder does not check UTF-8 either: a
			// reply that is well-formed but for that is the plugin's
			// error, as it was when guests encoded with protobuf-go, and
			// keeps the instance.
			return &GuestError{Message: "encode reply: " + err.Error()}
		}
		return fmt.Errorf("%w: decode reply: %v", ErrTrapped, err)
	}
	return nil
}

// vtUnmarshaler is a message of sdk/proto with its generated decoder.
type vtUnmarshaler interface {
	UnmarshalVT(dAtA []byte) error
}

// decodeReply splits an encoded GuestReply into its payload and error
// without copying the payload.
func decodeReply(b []byte) (payload []byte, msg string, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, "", fmt.Errorf("decode reply: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			payload, n = protowire.ConsumeBytes(b)
		case num == 2 && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			msg = string(v)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, "", fmt.Errorf("decode reply: %w", protowire.ParseError(n))
		}
		b = b[n:]
	}
	return payload, msg, nil
}

// arm starts watching a call: the deadline timeout and ctx. It returns the
// context to call wazero with. Every arm is followed by one disarm.
func (in *instance) arm(ctx context.Context, timeout time.Duration) context.Context {
	if in.watch == nil {
		cctx, cancel := callContext(ctx, timeout)
		in.cancel = cancel
		return cctx
	}
	in.watch.ctx = ctx
	in.watch.deadline = time.Now().Add(timeout)
	return ctx
}

// disarm stops watching the call and reports whether it was interrupted;
// an interrupted instance must be discarded.
func (in *instance) disarm() (interrupted bool) {
	if in.watch == nil {
		in.cancel()
		in.cancel = nil
		return false
	}
	in.watch.ctx = nil
	return in.watch.fired
}

// memoryBytes is the instance's linear memory size.
func (in *instance) memoryBytes() uint64 { return uint64(in.mem.Size()) }

func (in *instance) close() { _ = in.mod.Close(context.Background()) }

// callContext returns ctx bounded by timeout, unless ctx already ends
// sooner.
func callContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}

// classify turns an error from invoke into the error a caller sees, and
// says whether the instance is still usable. interrupted says the call was
// stopped by its deadline or its context (the trap is then ours).
func classify(ctx context.Context, timeout time.Duration, out *outputLog, err error, interrupted bool) (error, bool) {
	var ge *GuestError
	if errors.As(err, &ge) && !interrupted {
		return err, true
	}
	if interrupted {
		if cerr := ctx.Err(); cerr != nil {
			return cerr, false
		}
		return fmt.Errorf("%w (%v)", ErrTimeout, timeout), false
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			if cerr := ctx.Err(); cerr != nil {
				return cerr, false
			}
			return fmt.Errorf("%w (%v)", ErrTimeout, timeout), false
		case sys.ExitCodeContextCanceled:
			if cerr := ctx.Err(); cerr != nil {
				return cerr, false
			}
			return context.Canceled, false
		default:
			return fmt.Errorf("%w: exited with code %d%s", ErrTrapped, exit.ExitCode(), out.reason()), false
		}
	}
	if errors.Is(err, ErrTrapped) {
		return err, false
	}
	// wazero appends the wasm stack trace to a trap's message; the first
	// line and the guest's own explanation are what a person needs.
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%w: %s%s", ErrTrapped, msg, out.reason()), false
}
