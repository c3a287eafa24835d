package guest

import (
	"testing"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// reuseCases are requests whose presence of observation and screen
// differs, decoded one after the other into the reused messages.
var reuseCases = []struct {
	name string
	req  *cpv1.PlanRequest
}{
	{"full", &cpv1.PlanRequest{TaskId: "t", Instruction: "open settings", Step: 3, Lang: "en",
		Observation: &cpv1.Observation{UiXml: "<hierarchy/>", CurrentApp: "com.android.settings",
			Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}},
		History: []*cpv1.HistoryEntry{{Step: 1}, {Step: 2}}, State: []byte{1, 2}}},
	{"no observation", &cpv1.PlanRequest{Instruction: "hello", Step: 1}},
	{"observation without screen", &cpv1.PlanRequest{Observation: &cpv1.Observation{UiXml: "<x/>"}}},
	{"empty observation", &cpv1.PlanRequest{Observation: &cpv1.Observation{}}},
	{"empty screen", &cpv1.PlanRequest{Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{}}}},
	{"full again", &cpv1.PlanRequest{Instruction: "again",
		Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 720, Height: 1280}}}},
	{"empty", &cpv1.PlanRequest{}},
}

// TestReusedPlanRequestMatchesFresh decodes a sequence of requests into
// the reused messages and checks each against a fresh decode, presence
// of sub-messages included (proto.Equal tells a nil message from an empty
// one): nothing of one request leaks into the next.
func TestReusedPlanRequestMatchesFresh(t *testing.T) {
	for round := range 2 {
		for _, tt := range reuseCases {
			in, err := tt.req.MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			want := new(cpv1.PlanRequest)
			if err := want.UnmarshalVT(in); err != nil {
				t.Fatal(err)
			}
			got := reusedPlanRequest(in)
			if err := got.UnmarshalVTUnsafe(in); err != nil {
				t.Fatalf("round %d, %s: %v", round, tt.name, err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("round %d, %s: reused decode = %v, want %v", round, tt.name, got, want)
			}
		}
	}
}

// TestPlanReusesRequest: a ZeroCopier's Plan gets the same request message
// on every call, and answers as with fresh ones.
func TestPlanReusesRequest(t *testing.T) {
	saved := reg
	reg = registration{}
	t.Cleanup(func() { reg = saved })
	var seen []*cpv1.PlanRequest
	RegisterPlanner(&cpv1.PluginInfo{Name: "planner-test"}, recordingPlanner{func(req *cpv1.PlanRequest) {
		seen = append(seen, req)
	}})
	var b buffers
	for _, instr := range []string{"a", "b"} {
		in, _ := (&cpv1.PlanRequest{Instruction: instr}).MarshalVT()
		r := decode(t, b.serve(plan, in))
		var resp cpv1.PlanResponse
		if err := proto.Unmarshal(r.GetPayload(), &resp); err != nil || resp.GetThinking() != "ok "+instr {
			t.Fatalf("Plan(%s) = %v, %v (error %q)", instr, &resp, err, r.GetError())
		}
	}
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Errorf("requests %p, want the same reused message twice", seen)
	}
}

type recordingPlanner struct{ saw func(*cpv1.PlanRequest) }

func (p recordingPlanner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	p.saw(req)
	return &cpv1.PlanResponse{Thinking: "ok " + req.GetInstruction()}, nil
}

func (recordingPlanner) ZeroCopyRequests() bool { return true }

// FuzzReusedPlanRequest: for any bytes, decoding into the reused messages
// fails exactly when a fresh decode does, and otherwise gives an equal
// message, presence included.
func FuzzReusedPlanRequest(f *testing.F) {
	for _, tt := range reuseCases {
		in, _ := tt.req.MarshalVT()
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := new(cpv1.PlanRequest)
		werr := want.UnmarshalVT(in)
		got := reusedPlanRequest(in)
		gerr := got.UnmarshalVTUnsafe(in)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("fresh decode: %v, reused decode: %v", werr, gerr)
		}
		if werr == nil && !proto.Equal(got, want) {
			t.Fatalf("reused decode = %v, want %v", got, want)
		}
	})
}
