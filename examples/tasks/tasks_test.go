package tasks

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadSuite(t *testing.T) {
	ts, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 40 {
		t.Fatalf("%d tasks, want at least 40", len(ts))
	}
	langs := map[string]int{}
	intents := map[string]int{}
	for _, tk := range ts {
		langs[tk.Lang]++
		for _, in := range tk.Intents {
			intents[in]++
		}
	}
	if langs["zh"] < len(ts)*2/5 || langs["en"] < len(ts)*2/5 {
		t.Errorf("languages %v are not about half and half", langs)
	}
	for _, want := range []string{"open", "tap", "type", "toggle", "brightness", "search", "send", "add_cart", "back", "home", "navigate", "multi"} {
		if intents[want] == 0 {
			t.Errorf("no task exercises %s", want)
		}
	}
	t.Logf("%d tasks: %v; intents %v", len(ts), langs, intents)
}

const state = `{"current_app": "com.tencent.mm", "settings": {"airplane": true, "brightness": 255},
 "settings_tables": {"global": {"airplane_mode_on": "1"}},
 "tasks": {"com.tencent.mm": ["wechat.home", "wechat.chat:张三"]},
 "wechat": {"chats": [{"name": "李四", "messages": []},
   {"name": "张三", "messages": [{"from": "张三", "text": "hi"}, {"from": "我", "text": "明天开会"}]}]},
 "taobao": {"cart_count": 2, "cart": [{"name": "蓝牙耳机"}], "searches": null}}`

func TestCheck(t *testing.T) {
	tests := []struct {
		check Check
		ok    bool
	}{
		{Check{"current_app", "eq", "com.tencent.mm"}, true},
		{Check{"current_app", "ne", "com.tencent.mm"}, false},
		{Check{"settings.airplane", "eq", true}, true},
		{Check{"settings.airplane", "eq", "true"}, false},
		{Check{"settings.brightness", "gte", 255.0}, true},
		{Check{"settings.brightness", "lt", 100.0}, false},
		{Check{"settings_tables.global.airplane_mode_on", "eq", "1"}, true},
		{Check{`tasks["com.tencent.mm"][-1]`, "eq", "wechat.chat:张三"}, true},
		{Check{`tasks["com.tencent.mm"]`, "contains", "wechat.home"}, true},
		{Check{"wechat.chats[name=张三].messages[-1].text", "eq", "明天开会"}, true},
		{Check{"wechat.chats[name=张三].messages[-1].from", "eq", "我"}, true},
		{Check{"wechat.chats[name=张三].messages[0].text", "eq", "明天开会"}, false},
		{Check{"wechat.chats[name=王五].messages[-1].text", "eq", "x"}, false},
		{Check{"wechat.chats[name=李四].messages", "len_eq", 0.0}, true},
		{Check{"wechat.chats[name=李四].messages[-1]", "absent", nil}, true},
		{Check{"wechat.chats", "len_gte", 2.0}, true},
		{Check{"taobao.cart_count", "gte", 1.0}, true},
		{Check{"taobao.cart[0].name", "contains", "耳机"}, true},
		{Check{"taobao.cart[0].name", "not_contains", "耳机"}, false},
		{Check{"taobao.searches", "len_eq", 0.0}, true},
		{Check{"taobao.orders", "len_gte", 1.0}, false},
		{Check{"taobao.orders", "absent", nil}, true},
		{Check{"taobao.cart", "exists", nil}, true},
		{Check{"meituan.cart", "exists", nil}, false},
		{Check{"current_app[0]", "exists", nil}, false},
	}
	for _, tt := range tests {
		tk := Task{ID: "t", Checks: []Check{tt.check}}
		err := tk.Check([]byte(state))
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.check, err, tt.ok)
		}
		var ce *CheckError
		if err != nil && (!errors.As(err, &ce) || !strings.Contains(err.Error(), tt.check.Path) || ce.Got == "") {
			t.Errorf("%s: error %q does not name the check and what was found", tt.check, err)
		}
	}
	if err := (Task{ID: "t", Checks: []Check{{"a", "eq", 1.0}}}).Check([]byte("{not json")); err == nil {
		t.Error("bad state JSON accepted")
	}
}

func TestCheckErrorMessage(t *testing.T) {
	tk := Task{ID: "zh-send", Checks: []Check{{"wechat.chats[name=张三].messages[-1].text", "eq", "后天开会"}}}
	err := tk.Check([]byte(state))
	want := `task zh-send: check wechat.chats[name=张三].messages[-1].text eq "后天开会" failed: got "明天开会"`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got %v\nwant %s", err, want)
	}
}

func TestParseRejects(t *testing.T) {
	for name, data := range map[string]string{
		"not json":       `{`,
		"unknown field":  `{"tasks": [], "extra": 1}`,
		"no id":          `{"tasks": [{"instruction": "x", "lang": "zh", "checks": [{"path": "a", "op": "exists"}]}]}`,
		"duplicate id":   `{"tasks": [{"id": "a", "instruction": "x", "lang": "zh", "checks": [{"path": "a", "op": "exists"}]}, {"id": "a", "instruction": "y", "lang": "en", "checks": [{"path": "a", "op": "exists"}]}]}`,
		"bad lang":       `{"tasks": [{"id": "a", "instruction": "x", "lang": "fr", "checks": [{"path": "a", "op": "exists"}]}]}`,
		"no checks":      `{"tasks": [{"id": "a", "instruction": "x", "lang": "zh", "checks": []}]}`,
		"unknown op":     `{"tasks": [{"id": "a", "instruction": "x", "lang": "zh", "checks": [{"path": "a", "op": "like"}]}]}`,
		"bad path":       `{"tasks": [{"id": "a", "instruction": "x", "lang": "zh", "checks": [{"path": "a[", "op": "exists"}]}]}`,
		"no instruction": `{"tasks": [{"id": "a", "instruction": " ", "lang": "zh", "checks": [{"path": "a", "op": "exists"}]}]}`,
	} {
		if _, err := Parse([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParsePath(t *testing.T) {
	for _, bad := range []string{"", ".a", "a.", "a[x]", "a[=1]", `a["unterminated]`, "a[1"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) accepted", bad)
		}
	}
	steps, err := parsePath(`a.b[name=x y].c[-2]["d.e"]`)
	if err != nil || len(steps) != 6 || steps[2].selValue != "x y" || steps[4].index != -2 || steps[5].key != "d.e" {
		t.Fatalf("parsePath = %+v, %v", steps, err)
	}
}
