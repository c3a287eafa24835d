package tasks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/examples/tasks"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-intent/intent"
)

// maxDriveSteps is the step limit of one task, as the agent would set it.
const maxDriveSteps = 30

// driver runs a planner against a simulated phone in-process, the way the
// agent loop does over adb: observe with uiautomator and dumpsys, plan,
// turn the action into shell commands.
type driver struct {
	t        testing.TB
	p        *phone.Phone
	plan     func(*cpv1.PlanRequest) *cpv1.PlanResponse
	adbIME   bool
	log      []string
	retried  bool
	failures int
	// loseState, when set, says at which steps the host loses the
	// planner's state (as when the planner is swapped mid-task).
	loseState func(step int) bool
}

// result is how one task ended.
type result struct {
	steps  int
	finish *cpv1.Finish
	err    error // a planner error or a device command that failed
}

func (d *driver) sh(cmd string) (string, error) {
	var o, e bytes.Buffer
	code := d.p.Exec(context.Background(), cmd, nil, &o, &e)
	if code != 0 {
		return o.String(), fmt.Errorf("%q: exit %d: %s", cmd, code, strings.TrimSpace(e.String()))
	}
	return o.String(), nil
}

// observe dumps the UI hierarchy and reads the focused app.
func (d *driver) observe() (*cpv1.Observation, error) {
	if _, err := d.sh("uiautomator dump /sdcard/d.xml"); err != nil {
		return nil, err
	}
	xml, err := d.sh("cat /sdcard/d.xml")
	if err != nil {
		return nil, err
	}
	win, err := d.sh("dumpsys window")
	if err != nil {
		return nil, err
	}
	w, h := d.p.Size()
	return &cpv1.Observation{UiXml: xml, CurrentApp: focusedPackage(win),
		Screen: &cpv1.ScreenSize{Width: int32(w), Height: int32(h)}}, nil
}

// focusedPackage reads the package of mCurrentFocus in `dumpsys window`.
func focusedPackage(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "mCurrentFocus=") {
			continue
		}
		if i := strings.Index(line, " u0 "); i >= 0 {
			rest := line[i+4:]
			if j := strings.IndexAny(rest, "/}"); j >= 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

var keyCodes = map[string]string{"back": "KEYCODE_BACK", "home": "KEYCODE_HOME", "enter": "KEYCODE_ENTER",
	"delete": "KEYCODE_DEL", "app_switch": "KEYCODE_APP_SWITCH", "volume_up": "KEYCODE_VOLUME_UP",
	"volume_down": "KEYCODE_VOLUME_DOWN", "power": "KEYCODE_POWER"}

// act performs a normalized action with the shell commands Open-AutoGLM
// uses.
func (d *driver) act(a *cpv1.Action) error {
	pt, end := a.GetPoint(), a.GetEnd()
	var cmds []string
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_TAP:
		cmds = []string{fmt.Sprintf("input tap %d %d", pt.GetX(), pt.GetY())}
	case cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP:
		c := fmt.Sprintf("input tap %d %d", pt.GetX(), pt.GetY())
		cmds = []string{c, c}
	case cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		cmds = []string{fmt.Sprintf("input swipe %d %d %d %d 1000", pt.GetX(), pt.GetY(), pt.GetX(), pt.GetY())}
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		ms := a.GetDurationMs()
		if ms <= 0 {
			ms = 300
		}
		cmds = []string{fmt.Sprintf("input swipe %d %d %d %d %d", pt.GetX(), pt.GetY(), end.GetX(), end.GetY(), ms)}
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		if !d.adbIME {
			cmds = append(cmds, "ime set com.android.adbkeyboard/.AdbIME")
			d.adbIME = true
		}
		if a.GetClearText() {
			cmds = append(cmds, "am broadcast -a ADB_CLEAR_TEXT")
		}
		cmds = append(cmds, "am broadcast -a ADB_INPUT_B64 --es msg "+base64.StdEncoding.EncodeToString([]byte(a.GetText())))
	case cpv1.ActionType_ACTION_TYPE_KEY:
		k := keyCodes[a.GetKey()]
		if k == "" {
			k = a.GetKey()
		}
		cmds = []string{"input keyevent " + k}
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		cmds = []string{"monkey -p " + a.GetPackage() + " -c android.intent.category.LAUNCHER 1"}
	case cpv1.ActionType_ACTION_TYPE_WAIT, cpv1.ActionType_ACTION_TYPE_NOTE:
	default:
		return fmt.Errorf("action %v is not supported by the driver", a.GetType())
	}
	for _, c := range cmds {
		if _, err := d.sh(c); err != nil {
			return err
		}
	}
	return nil
}

// run drives one instruction until finish, an error or the step limit.
func (d *driver) run(instruction string) result {
	var state []byte
	var history []*cpv1.HistoryEntry
	for step := 1; step <= maxDriveSteps; step++ {
		obs, err := d.observe()
		if err != nil {
			return result{steps: step - 1, err: err}
		}
		if d.loseState != nil && d.loseState(step) {
			state = nil
		}
		req := &cpv1.PlanRequest{TaskId: "t", Instruction: instruction, Step: int32(step), Observation: obs,
			History: history, State: state}
		resp := d.plan(req)
		d.log = append(d.log, fmt.Sprintf("%2d [%s] %s", step, obs.GetCurrentApp(), resp.GetThinking()))
		switch r := resp.GetResult().(type) {
		case *cpv1.PlanResponse_Finish:
			return result{steps: step - 1, finish: r.Finish}
		case *cpv1.PlanResponse_Error:
			if r.Error.GetRetryable() && !d.retried {
				d.retried = true
				continue
			}
			return result{steps: step - 1, err: fmt.Errorf("planner error: %s", r.Error.GetMessage())}
		case *cpv1.PlanResponse_Action:
			h := &cpv1.HistoryEntry{Step: int32(step), Thinking: resp.GetThinking(), Action: r.Action,
				ScreenInfo: resp.GetScreenInfo()}
			if err := d.act(r.Action); err != nil {
				// A failed command (monkey on a missing package) is the
				// step's error; the planner sees the screen and decides.
				d.failures++
				if d.failures > 3 {
					return result{steps: step, err: err}
				}
				h.Error = err.Error()
				d.log = append(d.log, "   error: "+err.Error())
			}
			history = append(history, h)
			state = resp.GetState()
		default:
			return result{steps: step - 1, err: fmt.Errorf("planner returned no result")}
		}
	}
	return result{steps: maxDriveSteps, err: fmt.Errorf("no finish after %d steps", maxDriveSteps)}
}

// runTask runs task tk on a fresh phone of the given size and checks it.
// It returns the steps taken and nil, or why the task failed.
func runTask(t testing.TB, tk tasks.Task, w, h int) (int, []string, error) {
	p := phone.New(phone.Options{Width: w, Height: h})
	return finishTask(&driver{t: t, p: p, plan: intent.Plan}, p, tk)
}

// finishTask drives tk with d on p and checks p's final state.
func finishTask(d *driver, p *phone.Phone, tk tasks.Task) (int, []string, error) {
	r := d.run(tk.Instruction)
	if r.err != nil {
		return r.steps, d.log, r.err
	}
	if !r.finish.GetSuccess() {
		return r.steps, d.log, fmt.Errorf("planner gave up: %s", r.finish.GetMessage())
	}
	state, err := json.Marshal(p.State())
	if err != nil {
		return r.steps, d.log, err
	}
	return r.steps, d.log, tk.Check(state)
}

// TestSuiteIntentPlanner runs every task of the suite with the offline
// planner on fresh simulated phones of several screen sizes, so tap points
// must come from the hierarchy's bounds, and reports the success rate.
func TestSuiteIntentPlanner(t *testing.T) {
	ts, err := tasks.Load()
	if err != nil {
		t.Fatal(err)
	}
	sizes := [][2]int{{1080, 2400}, {720, 1600}, {1440, 3200}}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, sz := range sizes {
		name := strconv.Itoa(sz[0]) + "x" + strconv.Itoa(sz[1])
		t.Run(name, func(t *testing.T) {
			ok, steps := 0, 0
			for _, tk := range ts {
				n, log, err := runTask(t, tk, sz[0], sz[1])
				steps += n
				if err != nil {
					t.Errorf("%s %q: %v\n%s", tk.ID, tk.Instruction, err, strings.Join(log, "\n"))
					continue
				}
				ok++
			}
			rate := float64(ok) / float64(len(ts))
			t.Logf("%s: %d/%d tasks succeeded (%.1f%%), %.1f steps per task", name, ok, len(ts), 100*rate, float64(steps)/float64(len(ts)))
			if rate < 0.9 {
				t.Fatalf("success rate %.1f%% is below the 90%% target", 100*rate)
			}
		})
	}
}

// TestGracefulFailures drives instructions that cannot be done on the
// simulated phone: the planner must end each with finish{success: false}
// and a reason, within a few steps, never loop.
func TestGracefulFailures(t *testing.T) {
	tests := []struct{ instr, reason string }{
		{"打开小红书", "小红书"},
		{"open TikTok", "Douyin"},
		{"给不存在的人发消息说你好", "不存在的人"},
		{"send a message to Nobody saying hi", "Nobody"},
		{"打开设置，点击不存在的按钮", "不存在的"},
		{"tap the Teleport button", "Teleport"},
		{"在设置里搜索蓝牙", "设置"},
		{"今天天气怎么样", "今天天气怎么样"},
		{"打开某某不存在的应用", "某某不存在的"},
	}
	for _, tt := range tests {
		p := phone.New(phone.Options{})
		d := &driver{t: t, p: p, plan: intent.Plan}
		r := d.run(tt.instr)
		switch {
		case r.err != nil:
			t.Errorf("%q: %v\n%s", tt.instr, r.err, strings.Join(d.log, "\n"))
		case r.finish.GetSuccess():
			t.Errorf("%q: finished with success: %s", tt.instr, r.finish.GetMessage())
		case !strings.Contains(r.finish.GetMessage(), tt.reason):
			t.Errorf("%q: reason %q does not mention %q", tt.instr, r.finish.GetMessage(), tt.reason)
		case r.steps > 15:
			t.Errorf("%q: gave up only after %d steps", tt.instr, r.steps)
		default:
			t.Logf("%q: gave up after %d steps: %s", tt.instr, r.steps, r.finish.GetMessage())
		}
	}
}

// TestSuiteStateLost runs the suite with the planner's state dropped every
// third step, as when the planner module is replaced between steps by a
// version whose state it cannot read, and at every step, as a host that
// keeps no state would: progress must be rebuilt from the history and the
// screen.
func TestSuiteStateLost(t *testing.T) {
	ts, err := tasks.Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, lose := range map[string]func(int) bool{
		"every third step": func(step int) bool { return step%3 == 0 },
		"every step":       func(int) bool { return true },
	} {
		ok := 0
		for _, tk := range ts {
			p := phone.New(phone.Options{})
			d := &driver{t: t, p: p, plan: intent.Plan, loseState: lose}
			if _, log, err := finishTask(d, p, tk); err != nil {
				t.Errorf("state lost %s: %s %q: %v\n%s", name, tk.ID, tk.Instruction, err, strings.Join(log, "\n"))
				continue
			}
			ok++
		}
		t.Logf("state lost %s: %d/%d tasks succeeded (%.1f%%)", name, ok, len(ts), 100*float64(ok)/float64(len(ts)))
	}
}
