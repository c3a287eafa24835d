package main

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// The ADB Keyboard, which Open-AutoGLM switches to before typing: `input
// text` cannot type Chinese.
const adbIME = "com.android.adbkeyboard/.AdbIME"

// Durations a real backend uses when the action does not say.
const (
	longPressMs    = 3000 // Open-AutoGLM's long press
	defaultWaitMs  = 1000
	maxWaitMs      = 10 * 60 * 1000
	minSwipeMs     = 1000 // Open-AutoGLM: distance²/1000 ms, clamped
	maxSwipeMs     = 2000
	maxActionTexts = 64 * 1024
)

// keyNames maps the contract's key names to what `input keyevent` takes,
// as Open-AutoGLM sends them (back as 4, the rest by name).
var keyNames = map[string]string{
	"back":        "4",
	"home":        "KEYCODE_HOME",
	"enter":       "KEYCODE_ENTER",
	"delete":      "KEYCODE_DEL",
	"del":         "KEYCODE_DEL",
	"backspace":   "KEYCODE_DEL",
	"app_switch":  "KEYCODE_APP_SWITCH",
	"recents":     "KEYCODE_APP_SWITCH",
	"volume_up":   "KEYCODE_VOLUME_UP",
	"volume_down": "KEYCODE_VOLUME_DOWN",
	"power":       "KEYCODE_POWER",
	"menu":        "KEYCODE_MENU",
	"search":      "KEYCODE_SEARCH",
	"tab":         "KEYCODE_TAB",
	"space":       "KEYCODE_SPACE",
	"escape":      "KEYCODE_ESCAPE",
}

// appPackages resolves a launch by display name when the action carries
// no package: the simulator's apps, in Chinese and English.
var appPackages = map[string]string{
	"微信": "com.tencent.mm", "wechat": "com.tencent.mm",
	"淘宝": "com.taobao.taobao", "taobao": "com.taobao.taobao",
	"美团": "com.sankuai.meituan", "meituan": "com.sankuai.meituan",
	"高德地图": "com.autonavi.minimap", "amap": "com.autonavi.minimap",
	"设置": "com.android.settings", "settings": "com.android.settings",
	"浏览器": "com.android.browser", "browser": "com.android.browser",
}

// keyArg returns the keyevent argument for a contract key name.
func keyArg(name string) (string, error) {
	n := strings.TrimSpace(name)
	if v, ok := keyNames[strings.ToLower(n)]; ok {
		return v, nil
	}
	if code, err := strconv.Atoi(n); err == nil && code >= 0 && code < 400 {
		return n, nil
	}
	up := strings.ToUpper(n)
	if strings.HasPrefix(up, "KEYCODE_") && len(up) > len("KEYCODE_") && strings.Trim(up, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return up, nil
	}
	return "", fmt.Errorf("unknown key %q (want back, home, enter, delete, app_switch, volume_up, volume_down, power, a KEYCODE_ name or a number)", name)
}

// validPackage reports whether s looks like an Android package name, so
// it is safe to put on a shell command line.
func validPackage(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// swipeMs is Open-AutoGLM's swipe duration: distance² / 1000 ms, clamped
// to 1–2 s, unless the action gives one.
func swipeMs(a *cpv1.Action) int {
	if d := a.GetDurationMs(); d > 0 {
		return int(d)
	}
	dx := int64(a.GetPoint().GetX() - a.GetEnd().GetX())
	dy := int64(a.GetPoint().GetY() - a.GetEnd().GetY())
	return int(min(max((dx*dx+dy*dy)/1000, minSwipeMs), maxSwipeMs))
}

// point checks that an action has a point inside the screen.
func point(p *cpv1.Point, w, h int, what string) (int, int, error) {
	if p == nil {
		return 0, 0, fmt.Errorf("%s needs a point", what)
	}
	x, y := int(p.GetX()), int(p.GetY())
	if x < 0 || y < 0 || x >= w || y >= h {
		return 0, 0, fmt.Errorf("%s at (%d, %d) is off the %dx%d screen", what, x, y, w, h)
	}
	return x, y, nil
}

// actCommands maps a device-changing action to the shell commands a real
// adb backend sends, in order. Type's IME switch is not included: it
// depends on the phone's current IME (see sim.Act). Wait, take_over and
// note have no commands.
func actCommands(a *cpv1.Action, w, h int) ([]string, error) {
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_TAP:
		x, y, err := point(a.GetPoint(), w, h, "tap")
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("input tap %d %d", x, y)}, nil
	case cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP:
		x, y, err := point(a.GetPoint(), w, h, "double tap")
		if err != nil {
			return nil, err
		}
		tap := fmt.Sprintf("input tap %d %d", x, y)
		return []string{tap, tap}, nil
	case cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		x, y, err := point(a.GetPoint(), w, h, "long press")
		if err != nil {
			return nil, err
		}
		ms := int(a.GetDurationMs())
		if ms <= 0 {
			ms = longPressMs
		}
		return []string{fmt.Sprintf("input swipe %d %d %d %d %d", x, y, x, y, ms)}, nil
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		x1, y1, err := point(a.GetPoint(), w, h, "swipe start")
		if err != nil {
			return nil, err
		}
		x2, y2, err := point(a.GetEnd(), w, h, "swipe end")
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("input swipe %d %d %d %d %d", x1, y1, x2, y2, swipeMs(a))}, nil
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		if len(a.GetText()) > maxActionTexts {
			return nil, fmt.Errorf("type: text of %d bytes is too long", len(a.GetText()))
		}
		var cmds []string
		if a.GetClearText() {
			cmds = append(cmds, "am broadcast -a ADB_CLEAR_TEXT")
		}
		if a.GetText() != "" {
			cmds = append(cmds, "am broadcast -a ADB_INPUT_B64 --es msg "+base64.StdEncoding.EncodeToString([]byte(a.GetText())))
		}
		return cmds, nil
	case cpv1.ActionType_ACTION_TYPE_KEY:
		k, err := keyArg(a.GetKey())
		if err != nil {
			return nil, err
		}
		return []string{"input keyevent " + k}, nil
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		pkg := a.GetPackage()
		if pkg == "" {
			pkg = appPackages[strings.ToLower(strings.TrimSpace(a.GetApp()))]
		}
		if pkg == "" {
			return nil, fmt.Errorf("launch: no package (app %q is not one the simulator knows by name)", a.GetApp())
		}
		if !validPackage(pkg) {
			return nil, fmt.Errorf("launch: %q is not a package name", pkg)
		}
		return []string{"monkey -p " + pkg + " -c android.intent.category.LAUNCHER 1"}, nil
	case cpv1.ActionType_ACTION_TYPE_WAIT, cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
		return nil, nil
	case cpv1.ActionType_ACTION_TYPE_UNSPECIFIED:
		return nil, fmt.Errorf("action has no type")
	}
	return nil, fmt.Errorf("unknown action type %d", a.GetType())
}
