package autoglm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Default sampling settings of the reference client.
var defaultParams = &cpv1.InferParams{MaxTokens: 3000, Temperature: ptr(float32(0)),
	TopP: ptr(float32(0.85)), FrequencyPenalty: ptr(float32(0.2))}

func ptr[T any](v T) *T { return &v }

// Plan is the planner: with no model output it asks for inference on the
// conversation; with one it parses the reply into an action.
func Plan(req *cpv1.PlanRequest) *cpv1.PlanResponse {
	info := screenInfo(req.GetObservation())
	out := req.GetModelOutput()
	if out == nil {
		return &cpv1.PlanResponse{ScreenInfo: info, Thinking: "asking the model",
			Result: &cpv1.PlanResponse_Infer{Infer: &cpv1.InferRequest{Model: req.GetModel(),
				Messages: Conversation(req, info), Params: defaultParams}}}
	}
	if out.GetError() != "" {
		return &cpv1.PlanResponse{ScreenInfo: info, Result: &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{
			Message: "model: " + out.GetError(), Retryable: true}}}
	}
	reply, err := ParseReply(out.GetText())
	if err != nil {
		return &cpv1.PlanResponse{ScreenInfo: info, ModelReply: out.GetText(), Thinking: reply.Thinking,
			Result: &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{
				Message: "unparseable model reply: " + err.Error(), Retryable: true,
				Feedback: feedback(out.GetText(), err)}}}
	}
	resp := &cpv1.PlanResponse{ScreenInfo: info, ModelReply: out.GetText(), Thinking: reply.Thinking}
	if reply.Call.Name == "finish" {
		resp.Result = &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: reply.Call.Args["message"].Str, Success: true}}
		return resp
	}
	a, err := ToAction(reply.Call, req.GetObservation().GetScreen())
	if err != nil {
		resp.Result = &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{Message: "invalid action: " + err.Error(),
			Retryable: true, Feedback: feedback(out.GetText(), err)}}
		return resp
	}
	resp.Result = &cpv1.PlanResponse_Action{Action: a}
	return resp
}

func feedback(reply string, err error) string {
	if r := []rune(reply); len(r) > 300 {
		reply = string(r[:300]) + "…"
	}
	return fmt.Sprintf("Your previous reply could not be used (%v). Reply with <think>…</think><answer>one do(...) or finish(...) call</answer>.\nPrevious reply: %s", err, reply)
}

// screenInfo is the JSON the model is shown about the screen.
func screenInfo(obs *cpv1.Observation) string {
	app := obs.GetCurrentAppName()
	if app == "" {
		app = AppName(obs.GetCurrentApp())
	}
	return `{"current_app": ` + strconv.Quote(app) + `}`
}

// Conversation builds the messages for this step: system prompt, then for
// every earlier step its user turn (text only: earlier images are dropped)
// and the model's reply, then this step's user turn with the screenshot.
func Conversation(req *cpv1.PlanRequest, info string) []*cpv1.ChatMessage {
	date := req.GetDate()
	msgs := []*cpv1.ChatMessage{text("system", systemPrompt(req.GetLang(), date))}
	first := true
	for _, h := range req.GetHistory() {
		if h.GetModelReply() == "" {
			continue
		}
		msgs = append(msgs, text("user", userText(req.GetInstruction(), h.GetScreenInfo(), first)),
			text("assistant", normalizeReply(h.GetModelReply())))
		first = false
	}
	u := text("user", userText(req.GetInstruction(), info, first))
	if png := req.GetObservation().GetScreenshotPng(); len(png) > 0 {
		u.Content = append(u.Content, &cpv1.ContentPart{Part: &cpv1.ContentPart_ImagePng{ImagePng: png}})
	}
	msgs = append(msgs, u)
	if fb := req.GetFeedback(); fb != "" {
		msgs = append(msgs, text("user", fb))
	}
	return msgs
}

func userText(instruction, info string, first bool) string {
	if info == "" {
		info = "{}"
	}
	if first {
		return instruction + "\n\n" + info
	}
	return "** Screen Info **\n\n" + info
}

// normalizeReply keeps a reply in the <think>…</think><answer>…</answer>
// form the model was trained on.
func normalizeReply(reply string) string {
	r, err := ParseReply(reply)
	if err != nil || r.Answer == "" {
		return reply
	}
	return "<think>" + r.Thinking + "</think><answer>" + r.Answer + "</answer>"
}

func text(role, s string) *cpv1.ChatMessage {
	return &cpv1.ChatMessage{Role: role, Content: []*cpv1.ContentPart{{Part: &cpv1.ContentPart_Text{Text: s}}}}
}

// ToAction maps a do(...) call onto a normalized action on a screen.
func ToAction(c Call, screen *cpv1.ScreenSize) (*cpv1.Action, error) {
	kind := strings.ToLower(strings.Join(strings.Fields(c.Args["action"].Str), " "))
	a := &cpv1.Action{Message: c.Args["message"].Str}
	var err error
	switch kind {
	case "launch":
		app := c.Args["app"].Str
		pkg, ok := Package(app)
		if !ok {
			return nil, fmt.Errorf("unknown app %q", app)
		}
		a.Type, a.App, a.Package = cpv1.ActionType_ACTION_TYPE_LAUNCH, app, pkg
	case "tap", "double tap", "long press":
		a.Type = map[string]cpv1.ActionType{"tap": cpv1.ActionType_ACTION_TYPE_TAP,
			"double tap": cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, "long press": cpv1.ActionType_ACTION_TYPE_LONG_PRESS}[kind]
		a.Point, err = point(c.Args["element"], screen)
		a.Sensitive = kind == "tap" && a.Message != ""
		if kind == "long press" {
			a.DurationMs = 3000
		}
	case "swipe":
		a.Type = cpv1.ActionType_ACTION_TYPE_SWIPE
		if a.Point, err = point(c.Args["start"], screen); err == nil {
			a.End, err = point(c.Args["end"], screen)
		}
		a.DurationMs = 300
	case "type", "type_name", "type name":
		a.Type, a.Text, a.ClearText = cpv1.ActionType_ACTION_TYPE_TYPE, c.Args["text"].Str, true
	case "back", "home":
		a.Type, a.Key = cpv1.ActionType_ACTION_TYPE_KEY, kind
	case "wait":
		a.Type, a.DurationMs = cpv1.ActionType_ACTION_TYPE_WAIT, waitMs(c.Args["duration"])
	case "take_over", "take over":
		a.Type = cpv1.ActionType_ACTION_TYPE_TAKE_OVER
	case "note", "call_api", "call api", "interact":
		a.Type = cpv1.ActionType_ACTION_TYPE_NOTE
		if a.Message == "" {
			a.Message = kind + ": " + c.Args["instruction"].Str
		}
	case "":
		return nil, fmt.Errorf("do(...) without action=")
	default:
		return nil, fmt.Errorf("unknown action %q", c.Args["action"].Str)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return a, nil
}

// point maps relative 0–999 coordinates onto the screen's pixels:
// x_px = int(x/1000·width).
func point(v Value, screen *cpv1.ScreenSize) (*cpv1.Point, error) {
	if !v.IsList || len(v.List) != 2 {
		return nil, fmt.Errorf("expected [x,y], got %v", describe(v))
	}
	w, h := screen.GetWidth(), screen.GetHeight()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("screen size unknown")
	}
	x, y := v.List[0], v.List[1]
	if math.IsNaN(x) || math.IsNaN(y) || x < 0 || y < 0 || x > 1000 || y > 1000 {
		return nil, fmt.Errorf("coordinates [%g,%g] outside 0–999", x, y)
	}
	px, py := int32(x/1000*float64(w)), int32(y/1000*float64(h))
	return &cpv1.Point{X: min(px, w-1), Y: min(py, h-1)}, nil
}

func describe(v Value) string {
	switch {
	case v.IsStr:
		return strconv.Quote(v.Str)
	case v.IsNum:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case v.IsList:
		return fmt.Sprint(v.List)
	}
	return "nothing"
}

// waitMs reads "2 seconds", "2s", "500 ms" or a number of seconds.
func waitMs(v Value) int32 {
	if v.IsNum {
		return int32(min(v.Num, 60) * 1000)
	}
	s := strings.ToLower(strings.TrimSpace(v.Str))
	unit := 1000.0
	if strings.HasSuffix(s, "ms") || strings.Contains(s, "milli") {
		unit = 1
	}
	num := strings.TrimRight(strings.Fields(s + " 1")[0], "smilecondhu")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		n = 1
	}
	return int32(min(n*unit, 60000))
}
