package wasmrt

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// invalid is a string that is not UTF-8: a lone continuation byte.
const invalid = "bad \x80 byte"

func TestCheckUTF8(t *testing.T) {
	tests := []struct {
		name  string
		msg   proto.Message
		field string // "" when the message is valid
	}{
		{"valid", &cpv1.PlanResponse{Thinking: "点击设置", Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{Text: "咖啡"}}}, ""},
		{"bytes are not strings", &cpv1.PlanResponse{State: []byte(invalid), Thinking: "ok"}, ""},
		{"top level", &cpv1.PlanResponse{Thinking: invalid}, "cloudphone.v1.PlanResponse.thinking"},
		{"nested", &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{Message: invalid}}}, "cloudphone.v1.Action.message"},
		{"after valid fields", &cpv1.PlanResponse{Thinking: "ok", ModelReply: "ok", ScreenInfo: invalid}, "cloudphone.v1.PlanResponse.screen_info"},
		{"infer chunk", &cpv1.InferChunk{Delta: invalid}, "cloudphone.v1.InferChunk.delta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Encoded with the generated code, which, unlike protobuf-go,
			// writes invalid strings as they are.
			b, err := tt.msg.(interface{ MarshalVT() ([]byte, error) }).MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			err = checkUTF8(b, tt.msg.ProtoReflect().Descriptor())
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("checkUTF8 = %v, want nil", err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field)):
				t.Fatalf("checkUTF8 = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

// FuzzCheckUTF8 checks decodeGenerated (the generated decoder plus
// checkUTF8) against protobuf-go on the same bytes: a reply is accepted by
// one exactly when it is by the other, and decodes to the same message.
func FuzzCheckUTF8(f *testing.F) {
	for _, m := range []proto.Message{
		&cpv1.PlanResponse{Thinking: "点击", Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{Text: "咖啡", Point: &cpv1.Point{X: 1, Y: 2}}}},
		&cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: invalid}}},
		&cpv1.PlanResponse{State: []byte{0xff, 0x80}, ScreenInfo: invalid},
	} {
		b, err := m.(interface{ MarshalVT() ([]byte, error) }).MarshalVT()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := new(cpv1.PlanResponse)
		goErr := proto.Unmarshal(b, want)
		got := new(cpv1.PlanResponse)
		err := decodeGenerated(b, got, got)
		if (goErr == nil) != (err == nil) {
			t.Fatalf("protobuf-go: %v; decodeGenerated: %v", goErr, err)
		}
		if err == nil && !proto.Equal(reparse(t, got), want) {
			t.Fatalf("decodeGenerated = %v, protobuf-go = %v", got, want)
		}
	})
}

// reparse encodes m and decodes it again with protobuf-go, which writes
// the tags of unknown fields in their shortest form, as its decoder keeps
// them; the generated decoder keeps them as they came.
func reparse(t *testing.T, m *cpv1.PlanResponse) *cpv1.PlanResponse {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := new(cpv1.PlanResponse)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}
