package intent

import (
	"os"
	"strings"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func obsFrom(t testing.TB, name, app string, w, h int32) *cpv1.Observation {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".xml")
	if err != nil {
		t.Fatal(err)
	}
	return &cpv1.Observation{UiXml: string(b), CurrentApp: app, Screen: &cpv1.ScreenSize{Width: w, Height: h}}
}

func kind(r *cpv1.PlanResponse) string {
	switch x := r.GetResult().(type) {
	case *cpv1.PlanResponse_Action:
		return x.Action.GetType().String()
	case *cpv1.PlanResponse_Finish:
		if x.Finish.GetSuccess() {
			return "finish"
		}
		return "fail"
	case *cpv1.PlanResponse_Error:
		return "error"
	}
	return "none"
}

func TestPlanMalformedInput(t *testing.T) {
	launcher := obsFrom(t, "launcher", "com.android.launcher3", 1080, 2400)
	good := (&State{Instr: instrHash("打开设置")}).Marshal()
	tests := []struct {
		name string
		req  *cpv1.PlanRequest
		want string
	}{
		{"empty", &cpv1.PlanRequest{}, "error"},
		{"unknown instruction", &cpv1.PlanRequest{Instruction: "今天天气怎么样", Step: 1, Observation: launcher}, "fail"},
		{"too long", &cpv1.PlanRequest{Instruction: strings.Repeat("打开微信然后", 20000), Step: 1}, "fail"},
		{"no observation, launch needs none", &cpv1.PlanRequest{Instruction: "打开微信", Step: 1}, "ACTION_TYPE_LAUNCH"},
		{"no observation, tap needs one", &cpv1.PlanRequest{Instruction: "点击关于手机", Step: 1}, "error"},
		{"garbage state", &cpv1.PlanRequest{Instruction: "打开设置", Step: 2, State: []byte{0xde, 0xad, 0xbe, 0xef}, Observation: launcher}, "ACTION_TYPE_LAUNCH"},
		{"state of another instruction", &cpv1.PlanRequest{Instruction: "打开微信", Step: 2, State: good, Observation: launcher}, "ACTION_TYPE_LAUNCH"},
		{"step limit", &cpv1.PlanRequest{Instruction: "打开设置", Step: MaxSteps + 1, Observation: launcher}, "fail"},
		{"negative step", &cpv1.PlanRequest{Instruction: "open settings", Step: -5, Observation: &cpv1.Observation{}}, "ACTION_TYPE_LAUNCH"},
		{"malformed xml", &cpv1.PlanRequest{Instruction: "点击设置", Step: 1, Observation: &cpv1.Observation{
			UiXml: `<hierarchy><node text="设置" clickable="true" bounds="[0,0][100,100]"><node bounds="[1,2][`}}, "ACTION_TYPE_TAP"},
		{"invalid utf8", &cpv1.PlanRequest{Instruction: "\xff\xfe打开\x00微信", Step: 1}, "ACTION_TYPE_LAUNCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Plan(tt.req)
			if got := kind(r); got != tt.want {
				t.Fatalf("Plan = %s (%v), want %s", got, r, tt.want)
			}
			if e := r.GetError(); e != nil && e.GetMessage() == "" {
				t.Error("PlanError without message")
			}
		})
	}
}

// drive calls Plan repeatedly on the same observation, as if the screen
// never changed, and returns the results' kinds.
func drive(instr string, obs *cpv1.Observation, steps int) []*cpv1.PlanResponse {
	var out []*cpv1.PlanResponse
	var state []byte
	for i := 1; i <= steps; i++ {
		r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: int32(i), Observation: obs, State: state})
		out = append(out, r)
		if r.GetAction() == nil {
			break
		}
		state = r.GetState()
	}
	return out
}

func kinds(rs []*cpv1.PlanResponse) string {
	var ks []string
	for _, r := range rs {
		ks = append(ks, strings.TrimPrefix(kind(r), "ACTION_TYPE_"))
	}
	return strings.Join(ks, " ")
}

func TestPlanGivesUp(t *testing.T) {
	launcher := obsFrom(t, "launcher", "com.android.launcher3", 1080, 2400)
	settings := obsFrom(t, "settings", "com.android.settings", 1080, 2400)
	tests := []struct {
		name, instr string
		obs         *cpv1.Observation
		want        string
	}{
		{"app not installed", "打开小红书", launcher, "LAUNCH LAUNCH fail"},
		{"unknown app", "打开某某应用", launcher, "fail"},
		{"element missing", "点击不存在的按钮", settings, "KEY KEY KEY KEY fail"},
		{"element missing at home", "点击不存在的按钮", launcher, "fail"},
		{"switch never changes", "打开蓝牙", settings, "TAP TAP TAP fail"},
		{"already done", "关闭飞行模式", settings, "finish"},
		{"home never comes", "回到桌面", settings, "KEY KEY fail"},
		{"search box never appears", "在设置里搜索蓝牙", settings, "KEY KEY KEY KEY fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := drive(tt.instr, tt.obs, 40)
			if got := kinds(rs); got != tt.want {
				t.Fatalf("%s: %s, want %s (last: %v)", tt.instr, got, tt.want, rs[len(rs)-1])
			}
			if f := rs[len(rs)-1].GetFinish(); f != nil && f.GetMessage() == "" {
				t.Error("finish without message")
			}
		})
	}
}

func TestPlanTapsBoundsCenter(t *testing.T) {
	obs := &cpv1.Observation{UiXml: sampleXML, CurrentApp: "com.example", Screen: &cpv1.ScreenSize{Width: 720, Height: 1600}}
	r := Plan(&cpv1.PlanRequest{Instruction: "tap About phone", Step: 1, Observation: obs})
	a := r.GetAction()
	if a.GetType() != cpv1.ActionType_ACTION_TYPE_TAP || a.GetPoint().GetX() != 350 || a.GetPoint().GetY() != 240 {
		t.Fatalf("action = %v", r)
	}
	if !strings.Contains(r.GetThinking(), "tap") || r.GetScreenInfo() != `{"current_app": "com.example"}` {
		t.Errorf("thinking %q, screen info %q", r.GetThinking(), r.GetScreenInfo())
	}
	r = Plan(&cpv1.PlanRequest{Instruction: "点击关于手机", Step: 1, Observation: obs})
	if !strings.Contains(r.GetThinking(), "点击") {
		t.Errorf("Chinese instruction, thinking %q", r.GetThinking())
	}
}

func TestPlanFinishes(t *testing.T) {
	obs := obsFrom(t, "launcher", "com.tencent.mm", 1080, 2400)
	r := Plan(&cpv1.PlanRequest{Instruction: "打开微信", Step: 1, Observation: obs})
	if f := r.GetFinish(); !f.GetSuccess() || !strings.Contains(f.GetMessage(), "打开微信") {
		t.Fatalf("Plan = %v", r)
	}
}

func TestPlanTypesIntoFocusedField(t *testing.T) {
	obs := &cpv1.Observation{UiXml: sampleXML, CurrentApp: "com.example"}
	rs := drive("type hello", obs, 5)
	if got := kinds(rs); got != "TYPE TYPE TYPE fail" {
		t.Fatalf("got %s", got)
	}
	if a := rs[0].GetAction(); a.GetText() != "hello" || !a.GetClearText() {
		t.Fatalf("type action %v", a)
	}
}

// TestPlanRecoversFromHistory: a step whose state was lost (another
// planner version ran the earlier steps) resumes at the sub-goal of the
// last step, and a message just sent is checked, not sent again.
func TestPlanRecoversFromHistory(t *testing.T) {
	settings := obsFrom(t, "settings", "com.android.settings", 1080, 2400)
	instr := "打开设置，点击关于手机，然后返回"
	hist := []*cpv1.HistoryEntry{
		{Step: 1, Thinking: "(1/3) 打开设置：启动设置", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH}},
		{Step: 2, Thinking: "(2/3) 点击“关于手机”：向下滑动查找", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE}},
	}
	r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: 3, Observation: settings, History: hist, State: []byte{1, 2, 3}})
	if a := r.GetAction(); a.GetType() != cpv1.ActionType_ACTION_TYPE_TAP || !strings.HasPrefix(r.GetThinking(), "(2/3)") ||
		!strings.Contains(r.GetThinking(), "恢复") {
		t.Fatalf("recovered step = %v", r)
	}
	// The last step pressed back for the last goal: done.
	hist[1] = &cpv1.HistoryEntry{Step: 2, Thinking: "(3/3) 返回：按返回键", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "back"}}
	if r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: 3, Observation: settings, History: hist}); !r.GetFinish().GetSuccess() {
		t.Fatalf("after the last back = %v", r)
	}
	st, _ := loadState(&cpv1.PlanRequest{Instruction: instr, History: append(hist[:1:1],
		&cpv1.HistoryEntry{Thinking: "(2/3) x", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE}},
		&cpv1.HistoryEntry{Thinking: "(2/3) x", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "back"}})}, mustParse(t, instr))
	if st.Goal != 1 || st.Steps != 2 || st.Scrolls != 1 || st.Backs != 1 {
		t.Fatalf("rebuilt counters %+v", st)
	}
	// Without a usable prefix, the planner starts over and skips what the
	// screen shows is done.
	r = Plan(&cpv1.PlanRequest{Instruction: instr, Step: 3, Observation: settings,
		History: []*cpv1.HistoryEntry{{Step: 1, Thinking: "something else"}}})
	if !strings.HasPrefix(r.GetThinking(), "(2/3)") {
		t.Fatalf("restart = %v", r)
	}
	st, rec := loadState(&cpv1.PlanRequest{Instruction: "给张三发消息说你好", History: []*cpv1.HistoryEntry{
		{Thinking: "(1/1) 给张三发消息“你好”：点击“发送”", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Sensitive: true}}}}, []Goal{{Kind: KindSend}})
	if !rec || st.Goal != 0 || st.Phase != phaseSubmitted {
		t.Fatalf("after a send: %+v %v", st, rec)
	}
}

func mustParse(t *testing.T, instr string) []Goal {
	t.Helper()
	gs, err := Parse(instr)
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

// TestPlanStockSettings walks a stock-Android-like Settings app, where
// airplane mode lives on the "Network & internet" page.
func TestPlanStockSettings(t *testing.T) {
	node := func(text, desc string, b string, extra string) string {
		return `<node text="` + text + `" content-desc="` + desc + `" class="android.widget.TextView" package="com.android.settings" bounds="` + b + `" ` + extra + `/>`
	}
	home := `<hierarchy><node class="android.widget.FrameLayout" package="com.android.settings" bounds="[0,0][1080,2400]">` +
		`<node class="android.widget.LinearLayout" clickable="true" bounds="[0,300][1080,450]">` + node("Network & internet", "", "[150,320][900,380]", "") +
		node("Mobile, Wi‑Fi, hotspot", "", "[150,380][900,430]", "") + `</node>` +
		`<node class="android.widget.LinearLayout" clickable="true" bounds="[0,450][1080,600]">` + node("Connected devices", "", "[150,470][900,530]", "") + `</node>` +
		`</node></hierarchy>`
	network := func(on bool) string {
		checked := "false"
		if on {
			checked = "true"
		}
		return `<hierarchy><node class="android.widget.FrameLayout" package="com.android.settings" bounds="[0,0][1080,2400]">` +
			`<node class="android.widget.LinearLayout" clickable="true" bounds="[0,300][1080,450]">` + node("Internet", "", "[150,320][900,380]", "") + `</node>` +
			`<node class="android.widget.LinearLayout" clickable="true" bounds="[0,450][1080,600]">` + node("Airplane mode", "", "[150,470][900,530]", "") +
			`<node class="android.widget.Switch" checkable="true" checked="` + checked + `" bounds="[900,480][1040,560]"/></node>` +
			`</node></hierarchy>`
	}
	obs := func(xml string) *cpv1.Observation {
		return &cpv1.Observation{UiXml: xml, CurrentApp: "com.android.settings", Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}
	}
	instr := "turn on airplane mode"
	r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: 1, Observation: obs(home)})
	if p := r.GetAction().GetPoint(); p.GetX() != 525 || p.GetY() != 350 {
		t.Fatalf("step 1 = %v, want a tap on Network & internet", r)
	}
	r = Plan(&cpv1.PlanRequest{Instruction: instr, Step: 2, Observation: obs(network(false)), State: r.GetState()})
	if p := r.GetAction().GetPoint(); p.GetX() != 540 || p.GetY() != 525 {
		t.Fatalf("step 2 = %v, want a tap on the Airplane mode row", r)
	}
	r = Plan(&cpv1.PlanRequest{Instruction: instr, Step: 3, Observation: obs(network(true)), State: r.GetState()})
	if !r.GetFinish().GetSuccess() {
		t.Fatalf("step 3 = %v, want finish", r)
	}
}

func TestPlanThinksInTheInstructionLanguage(t *testing.T) {
	launcher := obsFrom(t, "launcher", "com.android.launcher3", 1080, 2400)
	for instr, want := range map[string]string{
		"send 李四 a WeChat message saying hi": "launch WeChat",
		"给李四发消息说hi":                          "启动微信",
		"打开浏览器输入hello world":                 "启动浏览器",
	} {
		r := Plan(&cpv1.PlanRequest{Instruction: instr, Step: 1, Observation: launcher})
		if !strings.Contains(r.GetThinking(), want) {
			t.Errorf("%q: thinking %q, want %q", instr, r.GetThinking(), want)
		}
	}
}
