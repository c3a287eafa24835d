package intent

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Bounds on the work of one task, so the planner never loops forever.
const (
	// MaxGoalSteps is the most actions one sub-goal may take.
	MaxGoalSteps = 14
	// MaxSteps is the most steps of a whole task.
	MaxSteps = 80
)

// Default screen size when neither the observation nor the hierarchy says.
const (
	defaultWidth  = 1080
	defaultHeight = 2400
)

// screen is what the planner sees at one step.
type screen struct {
	tree   *Tree // nil when the observation has no usable hierarchy
	app    string
	w, h   int
	zh     bool
	sig    uint32
	noUI   error // why tree is nil
	sticky bool  // the last action changed nothing on screen
}

func newScreen(obs *cpv1.Observation, zh bool) *screen {
	s := &screen{zh: zh, app: obs.GetCurrentApp(), w: int(obs.GetScreen().GetWidth()), h: int(obs.GetScreen().GetHeight())}
	xml := obs.GetUiXml()
	if strings.TrimSpace(xml) == "" {
		s.noUI = errors.New("the observation has no UI hierarchy")
	} else {
		t, err := ParseXML(xml)
		switch {
		case errors.Is(err, ErrNoHierarchy):
			s.noUI = errors.New("the UI hierarchy has no elements")
		default:
			s.tree = t // a malformed dump still shows what it could read
		}
	}
	if s.tree != nil {
		if s.app == "" {
			s.app = s.tree.Package()
		}
		if s.w <= 0 || s.h <= 0 {
			for i := range s.tree.Nodes {
				if b := s.tree.Nodes[i].Bounds; !b.Empty() {
					s.w, s.h = b.Right, b.Bottom
					break
				}
			}
		}
		s.sig = s.tree.Signature()
	}
	if s.w <= 0 || s.h <= 0 || s.w > 1<<15 || s.h > 1<<15 {
		s.w, s.h = defaultWidth, defaultHeight
	}
	return s
}

// t picks the Chinese or the English text.
func (s *screen) t(zh, en string) string {
	if s.zh {
		return zh
	}
	return en
}

// Plan is the planner: a pure function of the request. It parses the
// instruction into sub-goals, finds the current one from the state, checks
// on the observed screen whether it is done, and returns the next action,
// or finish when all are done or one cannot be done.
func Plan(req *cpv1.PlanRequest) *cpv1.PlanResponse {
	instr := req.GetInstruction()
	zh := IsChinese(instr)
	if !hasLetters(instr) {
		zh = req.GetLang() != "en" // no words to tell: the host's preference
	}
	goals, err := parseCached(instr)
	if err != nil {
		if errors.Is(err, ErrEmpty) {
			return planError("plan: empty instruction", false)
		}
		msg := "cannot understand the instruction: " + err.Error()
		var ue *UnknownError
		switch {
		case zh && errors.As(err, &ue):
			msg = "无法理解指令中的“" + ue.Part + "”"
		case zh && errors.Is(err, ErrTooLong):
			msg = "指令太长（超过 " + strconv.Itoa(MaxInstructionRunes) + " 个字）"
		case zh && errors.Is(err, ErrTooMany):
			msg = "指令的步骤太多（超过 " + strconv.Itoa(MaxGoals) + " 个）"
		}
		return finish(false, msg, pick(zh, "无法解析指令", "the instruction cannot be parsed"))
	}
	st, recovered := loadState(req, goals)
	if req.GetStep() > MaxSteps {
		return finish(false, pick(zh, "步数超过上限 ", "step limit reached: ")+strconv.Itoa(MaxSteps), pick(zh, "步数用尽", "out of steps"))
	}
	s := newScreen(req.GetObservation(), zh)
	if st.Sig != 0 && st.Sig == s.sig {
		s.sticky = true
	}
	for guard := 0; st.Goal < len(goals) && guard <= len(goals); guard++ {
		g := goals[st.Goal]
		if s.tree == nil && needsUI(g, s, &st) {
			return &cpv1.PlanResponse{
				Thinking: pick(zh, "看不到界面，稍后重试", "cannot see the screen; retry"),
				Result: &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{
					Message: "plan: " + s.noUI.Error(), Retryable: true,
					Feedback: "observe again with the UI hierarchy (uiautomator dump)"}},
				State: st.Marshal(),
			}
		}
		m := step(g, s, &st)
		prefix := "(" + strconv.Itoa(st.Goal+1) + "/" + strconv.Itoa(len(goals)) + ") " + g.describe(zh)
		switch {
		case m.done:
			st.nextGoal()
			continue
		case m.fail != "":
			return finish(false, prefix+pick(zh, "：失败，", ": failed, ")+m.fail, prefix+": "+m.fail)
		}
		st.Steps++
		if st.Steps > MaxGoalSteps {
			why := pick(zh, "尝试 "+strconv.Itoa(MaxGoalSteps)+" 步仍未完成", "not done after "+strconv.Itoa(MaxGoalSteps)+" steps")
			return finish(false, prefix+pick(zh, "：失败，", ": failed, ")+why, why)
		}
		st.Sig = s.sig
		if recovered {
			m.think += pick(zh, "（从历史记录恢复进度）", " (progress recovered from the history)")
		}
		return &cpv1.PlanResponse{
			Thinking:   prefix + pick(zh, "：", ": ") + m.think,
			Result:     &cpv1.PlanResponse_Action{Action: m.action},
			State:      st.Marshal(),
			ScreenInfo: screenInfo(s.app),
		}
	}
	var done []string
	for _, g := range goals {
		done = append(done, g.describe(zh))
	}
	msg := pick(zh, "已完成：", "done: ") + strings.Join(done, pick(zh, "；", "; "))
	r := finish(true, msg, msg)
	r.ScreenInfo = screenInfo(s.app)
	return r
}

// loadState returns the planner's progress: the state of the previous
// step, or, when there is none although the task is under way, or it is
// not ours (another planner or version ran the earlier steps, a host lost
// it, corrupt bytes), progress rebuilt from the history: the sub-goal the
// last steps worked on, read from their "(k/n)" thinking prefix, the moves
// made for it (so the bounds still hold), and its phase from the last
// action. Sub-goals check the screen before they act, so resuming repeats
// no completed effect; a message whose send was the last action is
// checked, not sent again.
func loadState(req *cpv1.PlanRequest, goals []Goal) (st State, recovered bool) {
	hash := instrHash(req.GetInstruction())
	if b := req.GetState(); len(b) > 0 {
		if s, err := UnmarshalState(b); err == nil && s.Instr == hash && s.Goal <= len(goals) {
			return s, false
		}
	} else if len(req.GetHistory()) == 0 {
		return State{Instr: hash}, false
	}
	st = State{Instr: hash}
	h := req.GetHistory()
	if len(h) == 0 {
		return st, true
	}
	k, n, ok := goalPrefix(h[len(h)-1].GetThinking())
	if !ok || n != len(goals) || k < 1 || k > len(goals) {
		return st, true
	}
	st.Goal = k - 1
	for i := len(h) - 1; i >= 0; i-- {
		if kk, nn, ok := goalPrefix(h[i].GetThinking()); !ok || kk != k || nn != n {
			break
		}
		st.Steps++
		switch a := h[i].GetAction(); a.GetType() {
		case cpv1.ActionType_ACTION_TYPE_TAP:
			st.Taps++
		case cpv1.ActionType_ACTION_TYPE_TYPE:
			st.Types++
		case cpv1.ActionType_ACTION_TYPE_SWIPE:
			st.Scrolls++
		case cpv1.ActionType_ACTION_TYPE_LAUNCH:
			st.Launches++
		case cpv1.ActionType_ACTION_TYPE_KEY:
			if a.GetKey() == "back" {
				st.Backs++
			}
			if a.GetKey() == "home" {
				st.Phase++
			}
		}
	}
	last := h[len(h)-1]
	a := last.GetAction()
	switch g := goals[st.Goal]; {
	case g.Kind == KindSend && a.GetSensitive():
		st.Phase = phaseSubmitted
	case g.Kind == KindSearch && a.GetType() == cpv1.ActionType_ACTION_TYPE_KEY && a.GetKey() == "enter":
		st.Phase = phaseSubmitted
	case (g.Kind == KindBack || g.Kind == KindEnter) && a.GetType() == cpv1.ActionType_ACTION_TYPE_KEY,
		(g.Kind == KindTap || g.Kind == KindOpen || g.Kind == KindToggle) && a.GetType() == cpv1.ActionType_ACTION_TYPE_TAP && g.Kind != KindToggle,
		g.Kind == KindAddCart && a.GetType() == cpv1.ActionType_ACTION_TYPE_TAP &&
			(strings.Contains(last.GetThinking(), "“加入购物车”") || strings.Contains(last.GetThinking(), `"加入购物车"`)):
		st.Phase = phaseActed
	}
	return st, true
}

// goalPrefix reads "(k/n) " at the start of a thinking text.
func goalPrefix(s string) (k, n int, ok bool) {
	rest, found := strings.CutPrefix(s, "(")
	if !found {
		return 0, 0, false
	}
	end := strings.IndexByte(rest, ')')
	if end < 0 {
		return 0, 0, false
	}
	ks, ns, found := strings.Cut(rest[:end], "/")
	if !found {
		return 0, 0, false
	}
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	return k, n, err1 == nil && err2 == nil
}

// lastParse caches the goals of the last instruction: a task calls Plan
// with the same instruction at every step, and parsing is most of a
// step's cost in wasm. The cache is invisible: Parse is deterministic.
var lastParse struct {
	sync.Mutex
	instr string
	goals []Goal
	err   error
}

func parseCached(instr string) ([]Goal, error) {
	lastParse.Lock()
	defer lastParse.Unlock()
	if lastParse.instr != instr || (lastParse.goals == nil && lastParse.err == nil) {
		// The cache outlives the call: it must not alias the request
		// (the module decodes requests zero-copy, see guest.ZeroCopier).
		instr = strings.Clone(instr)
		lastParse.goals, lastParse.err = Parse(instr)
		lastParse.instr = instr
	}
	return lastParse.goals, lastParse.err
}

// needsUI reports whether the goal's next move needs the hierarchy: a
// launch, back, home or enter does not.
func needsUI(g Goal, s *screen, st *State) bool {
	switch g.Kind {
	case KindBack, KindHome, KindEnter:
		return false
	case KindOpen:
		return g.App == "" || s.app == g.App
	}
	return g.App == "" || s.app == g.App || st.Launches >= 2
}

func pick(zh bool, z, e string) string {
	if zh {
		return z
	}
	return e
}

func hasLetters(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

func finish(ok bool, msg, thinking string) *cpv1.PlanResponse {
	return &cpv1.PlanResponse{
		Thinking: thinking,
		Result:   &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: msg, Success: ok}},
	}
}

func planError(msg string, retry bool) *cpv1.PlanResponse {
	return &cpv1.PlanResponse{
		Thinking: msg,
		Result:   &cpv1.PlanResponse_Error{Error: &cpv1.PlanError{Message: msg, Retryable: retry}},
	}
}

// screenInfo is the AutoGLM-style screen info, {"current_app": "微信"}.
func screenInfo(pkg string) string {
	name := pkg
	if a := AppByPackage(pkg); a != nil {
		name = a.Name
	} else if pkg == pkgLauncher || pkg == "" {
		name = "System Home"
	}
	return `{"current_app": ` + jsonString(name) + `}`
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
