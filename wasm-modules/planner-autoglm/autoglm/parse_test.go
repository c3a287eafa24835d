package autoglm

import (
	"strconv"
	"strings"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

var screen = &cpv1.ScreenSize{Width: 1200, Height: 2664}

// TestReplies is a corpus of real-looking replies, including the variants
// models emit around one valid action line.
func TestReplies(t *testing.T) {
	cases := []struct {
		name, reply string
		want        string // describe(action) or "finish:<msg>"
	}{
		{"reference tap", `<think>点击搜索框</think><answer>do(action="Tap", element=[924, 37])</answer>`, "tap 1108,98"},
		{"launch", `<think>打开微信</think><answer>do(action="Launch", app="微信")</answer>`, "launch com.tencent.mm"},
		{"finish first", `<think>完成</think><answer>finish(message="已发送，任务完成")</answer>`, "finish:已发送，任务完成"},
		{"trailing answer tag only", `<think>x</think>do(action="Back")</answer>`, "key back"},
		{"missing answer tags", `<think>回到桌面</think>do(action="Home")`, "key home"},
		{"box wrapped", `<think>t</think><answer><|begin_of_box|>do(action="Tap", element=[500,500])<|end_of_box|></answer>`, "tap 600,1332"},
		{"chinese quotes and commas", `<think>t</think><answer>do(action=“Type”，text=“你好，世界”)</answer>`, "type 你好，世界 clear"},
		{"chinese parens", `<think>t</think><answer>do（action="Back"）</answer>`, "key back"},
		{"single quotes", `<think>t</think><answer>do(action='Swipe', start=[500, 800], end=[500, 200])</answer>`, "swipe 600,2131->600,532"},
		{"prose around the call", "Sure! I will tap it.\ndo(action=\"Tap\", element=[0, 0]) that's it", "tap 0,0"},
		{"sensitive tap", `<think>pay</think><answer>do(action="Tap", element=[500,900], message="确认支付")</answer>`, "tap 600,2397 sensitive"},
		{"long press", `<answer>do(action="Long Press", element=[100,100])</answer>`, "long_press 120,266"},
		{"double tap", `<answer>do(action="Double Tap", element=[999,999])</answer>`, "double_tap 1198,2661"},
		{"type_name", `<answer>do(action="Type_Name", text="张三")</answer>`, "type 张三 clear"},
		{"wait", `<answer>do(action="Wait", duration="2 seconds")</answer>`, "wait 2000"},
		{"take over", `<answer>do(action="Take_over", message="请登录")</answer>`, "take_over 请登录"},
		{"note", `<answer>do(action="Note", message="价格 99 元")</answer>`, "note"},
		{"interact", `<answer>do(action="Interact")</answer>`, "note"},
		{"escaped quote in text", `<answer>do(action="Type", text="say \"hi\"")</answer>`, `type say "hi" clear`},
		{"cut before paren", `<answer>do(action="Home"`, "key home"},
		{"not a call name", `<answer>undo(action="Tap") do(action="Back")</answer>`, "key back"},
		{"finish beats do", `<answer>do(action="Back") finish(message="done")</answer>`, "finish:done"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseReply(c.reply)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if r.Call.Name == "finish" {
				if got := "finish:" + r.Call.Args["message"].Str; got != c.want {
					t.Fatalf("got %s want %s", got, c.want)
				}
				return
			}
			a, err := ToAction(r.Call, screen)
			if err != nil {
				t.Fatalf("action: %v", err)
			}
			if got := describeAction(a); got != c.want {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
}

func TestBadReplies(t *testing.T) {
	for name, reply := range map[string]string{
		"empty":          "",
		"prose only":     "我觉得应该点击搜索",
		"bad list":       `<answer>do(action="Tap", element=[1,)</answer>`,
		"unknown action": `<answer>do(action="Fly", element=[1,2])</answer>`,
		"unknown app":    `<answer>do(action="Launch", app="不存在的应用")</answer>`,
		"out of range":   `<answer>do(action="Tap", element=[1500, 20])</answer>`,
		"no action":      `<answer>do(element=[1,2])</answer>`,
		"one coord":      `<answer>do(action="Tap", element=[5])</answer>`,
		"unterminated":   `<answer>do(action="Type", text="abc)</answer>`,
	} {
		t.Run(name, func(t *testing.T) {
			resp := Plan(&cpv1.PlanRequest{Instruction: "x", Step: 1, ModelOutput: &cpv1.ModelOutput{Text: reply},
				Observation: &cpv1.Observation{Screen: screen}})
			e := resp.GetError()
			if e == nil || !e.GetRetryable() || e.GetMessage() == "" {
				t.Fatalf("want a retryable plan error, got %v", resp)
			}
			if reply != "" && !strings.Contains(e.GetFeedback(), "Previous reply") {
				t.Fatalf("feedback %q", e.GetFeedback())
			}
		})
	}
}

// TestCoordinates checks x_px = int(x/1000·width) on several screens.
func TestCoordinates(t *testing.T) {
	cases := []struct {
		w, h, x, y, px, py int32
	}{
		{1200, 2664, 924, 37, 1108, 98},
		{1080, 2400, 500, 500, 540, 1200},
		{720, 1600, 333, 667, 239, 1067},
		{1440, 3200, 999, 999, 1438, 3196},
		{1080, 2400, 0, 0, 0, 0},
		{1080, 2400, 1000, 1000, 1079, 2399},
	}
	for _, c := range cases {
		p, err := point(Value{IsList: true, List: []float64{float64(c.x), float64(c.y)}}, &cpv1.ScreenSize{Width: c.w, Height: c.h})
		if err != nil || p.X != c.px || p.Y != c.py {
			t.Errorf("%dx%d [%d,%d] → %v (%v), want %d,%d", c.w, c.h, c.x, c.y, p, err, c.px, c.py)
		}
	}
}

func TestConversation(t *testing.T) {
	png := []byte("\x89PNG fake")
	req := &cpv1.PlanRequest{Instruction: "打开微信", Step: 3, Date: "2026-11-23", Lang: "zh",
		Observation: &cpv1.Observation{CurrentApp: "com.tencent.mm", ScreenshotPng: png, Screen: screen},
		History: []*cpv1.HistoryEntry{
			{Step: 1, ScreenInfo: `{"current_app": "桌面"}`, ModelReply: `<think>a</think><answer>do(action="Launch", app="微信")</answer>`},
			{Step: 2, ScreenInfo: `{"current_app": "微信"}`, ModelReply: `<think>b</think>do(action="Back")</answer>`},
		}}
	resp := Plan(req)
	msgs := resp.GetInfer().GetMessages()
	if len(msgs) != 6 {
		t.Fatalf("%d messages", len(msgs))
	}
	roles := ""
	for _, m := range msgs {
		roles += m.GetRole()[:1]
	}
	if roles != "suauau" {
		t.Fatalf("roles %s", roles)
	}
	if s := msgs[0].GetContent()[0].GetText(); !strings.Contains(s, "2026-11-23") || !strings.Contains(s, `do(action="Take_over"`) {
		t.Fatal("system prompt lacks the date or the action list")
	}
	if s := msgs[1].GetContent()[0].GetText(); s != "打开微信\n\n{\"current_app\": \"桌面\"}" {
		t.Fatalf("first user turn %q", s)
	}
	if s := msgs[3].GetContent()[0].GetText(); !strings.HasPrefix(s, "** Screen Info **\n\n") {
		t.Fatalf("later user turn %q", s)
	}
	if s := msgs[4].GetContent()[0].GetText(); s != `<think>b</think><answer>do(action="Back")</answer>` {
		t.Fatalf("assistant turn not normalized: %q", s)
	}
	last := msgs[5]
	if len(last.GetContent()) != 2 || string(last.GetContent()[1].GetImagePng()) != string(png) {
		t.Fatal("the current turn must carry the screenshot")
	}
	for _, m := range msgs[:5] {
		for _, c := range m.GetContent() {
			if c.GetImagePng() != nil {
				t.Fatal("an earlier turn kept its image")
			}
		}
	}
	p := resp.GetInfer().GetParams()
	if p.GetMaxTokens() != 3000 || p.GetTemperature() != 0 || p.GetTopP() != 0.85 || p.GetFrequencyPenalty() != 0.2 {
		t.Fatalf("params %v", p)
	}
	if resp.GetScreenInfo() != `{"current_app": "微信"}` {
		t.Fatalf("screen info %q", resp.GetScreenInfo())
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{`<think>x</think><answer>do(action="Tap", element=[1,2])</answer>`,
		`finish(message="a")`, `do（action=“Type”，text=“你好”）`, `do(action="Swipe", start=(1,2), end=[3,4]`, "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReply(s)
		if err == nil && r.Call.Name == "do" {
			_, _ = ToAction(r.Call, screen)
		}
		_ = Plan(&cpv1.PlanRequest{ModelOutput: &cpv1.ModelOutput{Text: s}, Observation: &cpv1.Observation{Screen: screen}})
	})
}

func describeAction(a *cpv1.Action) string {
	kind := strings.ToLower(strings.TrimPrefix(a.GetType().String(), "ACTION_TYPE_"))
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		return "launch " + a.GetPackage()
	case cpv1.ActionType_ACTION_TYPE_TAP, cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		s := kind + " " + itoa(a.GetPoint().GetX()) + "," + itoa(a.GetPoint().GetY())
		if a.GetSensitive() {
			s += " sensitive"
		}
		return s
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		return "swipe " + itoa(a.GetPoint().GetX()) + "," + itoa(a.GetPoint().GetY()) + "->" + itoa(a.GetEnd().GetX()) + "," + itoa(a.GetEnd().GetY())
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		s := "type " + a.GetText()
		if a.GetClearText() {
			s += " clear"
		}
		return s
	case cpv1.ActionType_ACTION_TYPE_KEY:
		return "key " + a.GetKey()
	case cpv1.ActionType_ACTION_TYPE_WAIT:
		return "wait " + itoa(a.GetDurationMs())
	case cpv1.ActionType_ACTION_TYPE_TAKE_OVER:
		return "take_over " + a.GetMessage()
	}
	return kind
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
