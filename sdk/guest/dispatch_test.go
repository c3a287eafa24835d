package guest

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type testPlanner struct{}

func (testPlanner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	switch req.GetInstruction() {
	case "panic":
		panic("boom")
	case "error":
		return nil, errors.New("refused")
	case "nil":
		return nil, nil
	}
	return &cpv1.PlanResponse{Thinking: "ok " + req.GetInstruction()}, nil
}

// decode parses a reply the way the host does.
func decode(t *testing.T, b []byte) *cpv1.GuestReply {
	t.Helper()
	var r cpv1.GuestReply
	if err := proto.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply does not decode: %v", err)
	}
	return &r
}

func withPlanner(t *testing.T) {
	t.Helper()
	saved := reg
	reg = registration{}
	t.Cleanup(func() { reg = saved })
	RegisterPlanner(&cpv1.PluginInfo{Name: "planner-test", Version: "1.2.3", Kind: cpv1.PluginKind_PLUGIN_KIND_MODEL}, testPlanner{})
}

func TestDescribeFillsKindAndContract(t *testing.T) {
	withPlanner(t)
	var b buffers
	r := decode(t, b.serve(describe, nil))
	var info cpv1.PluginInfo
	if err := proto.Unmarshal(r.GetPayload(), &info); err != nil {
		t.Fatal(err)
	}
	if info.GetName() != "planner-test" || info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER ||
		info.GetContractMajor() != cpv1.ContractMajor || info.GetContractMinor() != cpv1.ContractMinor {
		t.Fatalf("info = %v", &info)
	}
}

func TestRegisterTwiceIsReported(t *testing.T) {
	withPlanner(t)
	RegisterPlanner(&cpv1.PluginInfo{Name: "again"}, testPlanner{})
	var b buffers
	if r := decode(t, b.serve(describe, nil)); !strings.Contains(r.GetError(), "more than once") {
		t.Fatalf("reply = %v", r)
	}
}

func TestPlanReplies(t *testing.T) {
	withPlanner(t)
	tests := []struct {
		instruction, wantThinking, wantErr string
	}{
		{"go", "ok go", ""},
		{"panic", "", "panic: boom"},
		{"error", "", "refused"},
		{"nil", "", "nil response"},
	}
	var b buffers
	for _, tt := range tests {
		t.Run(tt.instruction, func(t *testing.T) {
			in, err := proto.Marshal(&cpv1.PlanRequest{Instruction: tt.instruction})
			if err != nil {
				t.Fatal(err)
			}
			r := decode(t, b.serve(plan, in))
			if r.GetError() != tt.wantErr && !strings.Contains(r.GetError(), tt.wantErr) || (tt.wantErr == "") != (r.GetError() == "") {
				t.Fatalf("error = %q, want %q", r.GetError(), tt.wantErr)
			}
			if tt.wantErr != "" {
				return
			}
			var resp cpv1.PlanResponse
			if err := proto.Unmarshal(r.GetPayload(), &resp); err != nil || resp.GetThinking() != tt.wantThinking {
				t.Fatalf("response = %v, %v", &resp, err)
			}
		})
	}
	if r := decode(t, b.serve(plan, []byte{0xff})); !strings.Contains(r.GetError(), "decode plan request") {
		t.Errorf("garbage request: %v", r)
	}
	if r := decode(t, b.serve(infer, nil)); !strings.Contains(r.GetError(), "not a model") {
		t.Errorf("infer on a planner: %v", r)
	}
}

func TestBuffersAreReusedAndBounded(t *testing.T) {
	var b buffers
	p1 := b.alloc(100)
	p2 := b.alloc(50)
	if &p1[0] != &p2[0] {
		t.Error("a smaller request did not reuse the buffer")
	}
	if b.alloc(MaxRequestSize+1) != nil {
		t.Error("alloc beyond MaxRequestSize succeeded")
	}
	b.alloc(KeepBufferSize + 1)
	b.free()
	if cap(b.in) != 0 {
		t.Error("free kept a buffer larger than KeepBufferSize")
	}
	b.out = make([]byte, 0, KeepBufferSize+1)
	if cap(b.reply()) != 0 {
		t.Error("reply kept a buffer larger than KeepBufferSize")
	}
}

func BenchmarkServePlan4KiB(b *testing.B) {
	saved := reg
	reg = registration{}
	defer func() { reg = saved }()
	RegisterPlanner(&cpv1.PluginInfo{Name: "planner-test"}, testPlanner{})
	in, _ := proto.Marshal(&cpv1.PlanRequest{Instruction: "go", Observation: &cpv1.Observation{UiXml: strings.Repeat("x", 4096)}})
	var buf buffers
	b.ReportAllocs()
	for b.Loop() {
		buf.serve(plan, in)
	}
}

type zeroCopyPlanner struct{ testPlanner }

func (zeroCopyPlanner) ZeroCopyRequests() bool { return true }

// TestZeroCopyDecoding checks that a ZeroCopier's requests alias the
// request buffer (the next call overwrites them) and that other plugins'
// requests are copied out of it.
func TestZeroCopyDecoding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Planner
		aliased bool
	}{
		{"copying", testPlanner{}, false},
		{"zero-copy", zeroCopyPlanner{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := reg
			t.Cleanup(func() { reg = saved })
			reg = registration{}
			RegisterPlanner(&cpv1.PluginInfo{Name: "p"}, tc.p)
			if reg.zeroCopy != tc.aliased {
				t.Fatalf("zeroCopy = %v, want %v", reg.zeroCopy, tc.aliased)
			}
			in, err := proto.Marshal(&cpv1.PlanRequest{Instruction: "open settings"})
			if err != nil {
				t.Fatal(err)
			}
			var req cpv1.PlanRequest
			if err := decodeRequest(&req, in); err != nil {
				t.Fatal(err)
			}
			if req.GetInstruction() != "open settings" {
				t.Fatalf("instruction = %q", req.GetInstruction())
			}
			copy(in[len(in)-len("settings"):], "XXXXXXXX") // the next call's bytes
			got := req.GetInstruction() == "open XXXXXXXX"
			if got != tc.aliased {
				t.Errorf("after the buffer changed, instruction = %q (aliased %v, want %v)", req.GetInstruction(), got, tc.aliased)
			}
		})
	}
}
