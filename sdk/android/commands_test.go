package android

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestCommands(t *testing.T) {
	screen := &cpv1.ScreenSize{Width: 1080, Height: 2400}
	p := func(x, y int32) *cpv1.Point { return &cpv1.Point{X: x, Y: y} }
	for _, c := range []struct {
		a    *cpv1.Action
		mode TextMode
		want string
	}{
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: p(1079, 2399)}, 0, "input tap 1079 2399"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, Point: p(1, 2)}, 0, "input tap 1 2|input tap 1 2"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LONG_PRESS, Point: p(1, 2)}, 0, "input swipe 1 2 1 2 3000"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: p(500, 2000), End: p(500, 500)}, 0, "input swipe 500 2000 500 500 2000"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: p(500, 600), End: p(500, 500), DurationMs: 300}, 0, "input swipe 500 600 500 500 300"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: p(500, 600), End: p(500, 500)}, 0, "input swipe 500 600 500 500 1000"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "back"}, 0, "input keyevent 4"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "Home"}, 0, "input keyevent KEYCODE_HOME"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "keycode_camera"}, 0, "input keyevent KEYCODE_CAMERA"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "66"}, 0, "input keyevent 66"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "微信"}, 0, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "tv.danmaku.bili", App: "whatever"}, 0, "monkey -p tv.danmaku.bili -c android.intent.category.LAUNCHER 1"},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "你好", ClearText: true}, TextADBKeyboard,
			"am broadcast -a ADB_CLEAR_TEXT|am broadcast -a ADB_INPUT_B64 --es msg " + base64.StdEncoding.EncodeToString([]byte("你好"))},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "a b's"}, TextInput, `input text 'a%sb'\''s'`},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "x%sy\nz"}, TextInput, `input text 'x%'|input text 'sy'|input keyevent KEYCODE_ENTER|input text 'z'`},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT}, 0, ""},
		{&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_NOTE}, 0, ""},
	} {
		cmds, err := Commands(c.a, screen, c.mode)
		if err != nil {
			t.Errorf("Commands(%v): %v", c.a, err)
			continue
		}
		if got := strings.Join(cmds, "|"); got != c.want {
			t.Errorf("Commands(%v) =\n  %q\nwant\n  %q", c.a, got, c.want)
		}
	}
}

func TestCommandsErrors(t *testing.T) {
	screen := &cpv1.ScreenSize{Width: 100, Height: 100}
	for _, a := range []*cpv1.Action{
		nil, {},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP},
		{Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 100, Y: 0}},
		{Type: cpv1.ActionType_ACTION_TYPE_LONG_PRESS, Point: &cpv1.Point{X: 0, Y: -1}},
		{Type: cpv1.ActionType_ACTION_TYPE_SWIPE, Point: &cpv1.Point{X: 0, Y: 0}},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "KEYCODE_"},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "KEYCODE_A;reboot"},
		{Type: cpv1.ActionType_ACTION_TYPE_KEY, Key: "400"},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH},
		{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "a b"},
		{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: strings.Repeat("x", MaxTextBytes+1)},
		{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "\xff"},
		{Type: cpv1.ActionType(-3)},
	} {
		if cmds, err := Commands(a, screen, TextADBKeyboard); err == nil {
			t.Errorf("Commands(%v) = %q, want an error", a, cmds)
		}
	}
	if _, err := Commands(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "中"}, nil, TextInput); !errors.Is(err, ErrNonASCII) {
		t.Errorf("non-ASCII through input text: %v", err)
	}
	if _, err := Commands(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: "\t"}, nil, TextInput); !errors.Is(err, ErrNonASCII) {
		t.Errorf("tab through input text: %v", err)
	}
}

// Long text is split into broadcasts on rune boundaries.
func TestCommandsChunks(t *testing.T) {
	text := strings.Repeat("中文", 2000) // 12000 bytes
	cmds, err := Commands(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: text}, nil, TextADBKeyboard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cmds {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(c, "am broadcast -a ADB_INPUT_B64 --es msg "))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(raw)
	}
	if len(cmds) < 4 || b.String() != text {
		t.Errorf("%d chunks reassemble to %d bytes", len(cmds), b.Len())
	}
}
