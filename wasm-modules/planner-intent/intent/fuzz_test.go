package intent

import (
	"testing"
	"unicode/utf8"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// FuzzParse checks that any instruction parses or fails cleanly: no panic,
// a bounded number of goals, each well formed. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("打开微信给张三发消息说明天开会，然后回到桌面")
	f.Add("search for 耳机 on Taobao and add it to cart")
	f.Fuzz(func(t *testing.T, s string) {
		gs, err := Parse(s)
		if err != nil {
			if gs != nil {
				t.Fatalf("Parse(%q) returned goals and %v", s, err)
			}
			return
		}
		if len(gs) == 0 || len(gs) > MaxGoals+2 {
			t.Fatalf("Parse(%q) = %d goals", s, len(gs))
		}
		for _, g := range gs {
			if g.Kind < KindOpen || g.Kind > KindNavigate {
				t.Fatalf("Parse(%q): bad kind %v", s, g.Kind)
			}
			if g.Kind == KindSend && (g.Contact == "" || g.Text == "") {
				t.Fatalf("Parse(%q): send without contact or text: %v", s, g)
			}
			if !utf8.ValidString(g.Text) || !utf8.ValidString(g.Target) {
				t.Fatalf("Parse(%q): invalid UTF-8 in %v", s, g)
			}
			_ = g.describe(true) + g.describe(false)
		}
	})
}

// FuzzPlan feeds arbitrary instructions, hierarchies and states to Plan:
// it must answer with exactly one result and never panic.
func FuzzPlan(f *testing.F) {
	f.Add("点击关于手机", sampleXML, []byte(nil), int32(1), "")
	f.Add("open settings and tap about", `<node text="About" bounds="[0,0][9,9]"/>`, []byte{8, 1}, int32(3), "(2/2) tap")
	f.Add("打开蓝牙", "<hierarchy><node", []byte{0xde, 0xad}, int32(2), "(1/1) x")
	f.Fuzz(func(t *testing.T, instr, xml string, state []byte, step int32, thinking string) {
		var hist []*cpv1.HistoryEntry
		if thinking != "" {
			hist = []*cpv1.HistoryEntry{{Step: 1, Thinking: thinking,
				Action: &cpv1.Action{Type: cpv1.ActionType(len(thinking) % 11), Key: "back", Sensitive: len(thinking)%2 == 0}}}
		}
		r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: step, State: state, History: hist,
			Observation: &cpv1.Observation{UiXml: xml, Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}})
		switch x := r.GetResult().(type) {
		case *cpv1.PlanResponse_Action:
			if x.Action.GetType() == cpv1.ActionType_ACTION_TYPE_UNSPECIFIED {
				t.Fatal("action without type")
			}
		case *cpv1.PlanResponse_Finish:
		case *cpv1.PlanResponse_Error:
			if x.Error.GetMessage() == "" {
				t.Fatal("error without message")
			}
		default:
			t.Fatalf("no result: %v", r)
		}
	})
}
