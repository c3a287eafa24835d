package wasmrt

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

const partsDir = "testdata/parts"

// BenchmarkCallParts splits a 4 KiB Plan call into its parts, each timed
// alone: the host's encoding of the request, its copy into guest memory,
// entering the guest (an export that does nothing), the guest's yield,
// the guest's decoding of the request and encoding of the reply (the
// guest's generated code has no protobuf-go reflection to compare with), the planner's own work,
// the host's decoding of the reply, then cp_plan and the whole call on one
// instance. The guest parts end with a yield, as cp_plan does, so that the
// garbage collector keeps up: subtract guest-gosched for the work alone.
func BenchmarkCallParts(b *testing.B) {
	for _, mode := range []struct {
		name         string
		noInstrument bool
	}{{"instrumented", false}, {"uninstrumented", true}} {
		b.Run(mode.name, func(b *testing.B) {
			benchSkipInstrument = mode.noInstrument
			r := newTestRuntime(b, Options{SkipSelfTest: true})
			m := loadTest(b, r, partsDir, "")
			benchSkipInstrument = false
			benchParts(b, m)
		})
	}
}

func benchParts(b *testing.B, m *Module) {
	ctx := context.Background()
	req := request4KiB()
	in, err := m.acquire(ctx, false)
	if err != nil {
		b.Fatal(err)
	}
	defer m.release(in)
	enc, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	if err := in.ensureBuffer(ctx, uint32(len(enc))); err != nil {
		b.Fatal(err)
	}
	if !in.mem.Write(in.inPtr, enc) {
		b.Fatal("write request")
	}
	reply, err := proto.Marshal(helloPlan(req))
	if err != nil {
		b.Fatal(err)
	}
	export := func(name string, params ...uint64) func(b *testing.B) {
		return func(b *testing.B) {
			fn := in.mod.ExportedFunction(name)
			if fn == nil {
				b.Fatalf("no export %s", name)
			}
			var stack [2]uint64
			for b.Loop() {
				copy(stack[:], params)
				err := fn.CallWithStack(in.arm(ctx, DefaultCallTimeout), stack[:])
				if in.disarm() || err != nil {
					b.Fatal(name, err)
				}
			}
		}
	}
	ptr, size := uint64(in.inPtr), uint64(len(enc))
	var st [1]uint64
	st[0] = size
	if err := in.mod.ExportedFunction("parts_buf").CallWithStack(ctx, st[:]); err != nil {
		b.Fatal(err)
	}
	if !in.mem.Write(uint32(st[0]), enc) {
		b.Fatal("write request to parts_buf")
	}
	b.Run("host-marshal", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], req)
		}
	})
	b.Run("host-marshal-vt", func(b *testing.B) {
		buf := make([]byte, req.SizeVT())
		for b.Loop() {
			buf = buf[:req.SizeVT()]
			if _, err := req.MarshalToSizedBufferVT(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("host-copy-in", func(b *testing.B) {
		for b.Loop() {
			in.mem.Write(in.inPtr, enc)
		}
	})
	b.Run("host-unmarshal-reply", func(b *testing.B) {
		for b.Loop() {
			var resp cpv1.PlanResponse
			if err := proto.Unmarshal(reply, &resp); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("host-unmarshal-reply-vt", func(b *testing.B) {
		for b.Loop() {
			var resp cpv1.PlanResponse
			if err := resp.UnmarshalVT(reply); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("guest-nop", export("parts_nop"))
	b.Run("guest-gosched", export("parts_gosched"))
	b.Run("guest-alloc-4KiB", export("parts_alloc", 4096))
	b.Run("guest-unmarshal-vt", export("parts_unmarshal_vt", size))
	b.Run("guest-plan", export("parts_plan"))
	b.Run("guest-marshal-reply-vt", export("parts_marshal_vt"))
	b.Run("guest-unmarshal-vt-unsafe-noyield", export("parts_unmarshal_vt_unsafe", size))
	b.Run("guest-unmarshal-reuse-noyield", export("parts_unmarshal_reuse", size))
	b.Run("guest-plan-noyield", export("parts_plan_only"))
	b.Run("guest-marshal-reply-vt-noyield", export("parts_marshal_vt_only"))
	b.Run("cp_plan", export("cp_plan", ptr, size))
	b.Run("invoke", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.invoke(ctx, in, callPlan, req, new(cpv1.PlanResponse)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
