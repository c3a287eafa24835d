package tasks_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/examples/tasks"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-intent/intent"
)

// dirty leaves every app on a deep screen and the phone in an app, as a
// phone used by an earlier task would be: Settings on 关于手机, WeChat in
// the chat with 李四 with text typed, Taobao on a product page, Meituan on
// a shop page, Amap on search results, and the browser in front.
func dirty(t testing.TB, p *phone.Phone) {
	t.Helper()
	d := &driver{t: t, p: p}
	steps := []string{
		"monkey -p com.android.settings -c android.intent.category.LAUNCHER 1", "tap:关于手机",
		"monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1", "tap:李四", "tap:com.tencent.mm:id/input",
		"ime set com.android.adbkeyboard/.AdbIME", "am broadcast -a ADB_INPUT_TEXT --es msg draft",
		"monkey -p com.taobao.taobao -c android.intent.category.LAUNCHER 1", "tap:com.taobao.taobao:id/item",
		"monkey -p com.sankuai.meituan -c android.intent.category.LAUNCHER 1", "tap:com.sankuai.meituan:id/shop_item",
		"monkey -p com.autonavi.minimap -c android.intent.category.LAUNCHER 1", "tap:com.autonavi.minimap:id/search_box",
		"am broadcast -a ADB_INPUT_TEXT --es msg park", "input keyevent KEYCODE_ENTER",
		"ime set com.android.inputmethod.latin/.LatinIME",
		"monkey -p com.android.browser -c android.intent.category.LAUNCHER 1",
	}
	for _, s := range steps {
		if name, ok := strings.CutPrefix(s, "tap:"); ok {
			obs, err := d.observe()
			if err != nil {
				t.Fatal(err)
			}
			tr, _ := intent.ParseXML(obs.GetUiXml())
			i := -1
			for j, n := range tr.Nodes {
				if n.Text == name || n.ResourceID == name {
					i = j
					break
				}
			}
			if i < 0 {
				t.Fatalf("dirty: no %s on screen", name)
			}
			x, y := tr.Nodes[i].Bounds.Center()
			s = "input tap " + strconv.Itoa(x) + " " + strconv.Itoa(y)
		}
		if _, err := d.sh(s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSuiteDirtyPhone runs the suite on phones left in use by an earlier
// task, so the planner must find its way back from deep screens. Tasks
// whose checks assume a fresh phone may fail here by design ("打开微信然后
// 返回" presses back once, which on a chat screen stays in WeChat); the
// rest must pass.
func TestSuiteDirtyPhone(t *testing.T) {
	ts, err := tasks.Load()
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, tk := range ts {
		p := phone.New(phone.Options{Width: 1080, Height: 2400})
		dirty(t, p)
		_, log, err := finishTask(&driver{t: t, p: p, plan: intent.Plan}, p, tk)
		if err != nil {
			t.Logf("%s %q: %v\n%s", tk.ID, tk.Instruction, err, strings.Join(log, "\n"))
			continue
		}
		ok++
	}
	rate := float64(ok) / float64(len(ts))
	t.Logf("dirty phones: %d/%d tasks succeeded (%.1f%%)", ok, len(ts), 100*rate)
	if rate < 0.9 {
		t.Fatalf("success rate %.1f%% on dirty phones is below 90%%", 100*rate)
	}
}
