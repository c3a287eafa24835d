package android

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// ADBKeyboardIME is the ADB Keyboard's input method id. Open-AutoGLM
// switches to it before typing: `input text` cannot type Chinese.
const ADBKeyboardIME = "com.android.adbkeyboard/.AdbIME"

// Durations and limits of the action mapping.
const (
	// LongPressMs is a long press when the action gives no duration
	// (Open-AutoGLM's 3 s).
	LongPressMs = 3000
	// DefaultWaitMs is a wait when the action gives no duration.
	DefaultWaitMs = 1000
	// MaxWaitMs bounds a wait.
	MaxWaitMs = 10 * 60 * 1000
	// MinSwipeMs and MaxSwipeMs clamp Open-AutoGLM's swipe duration
	// (distance² / 1000 ms) when the action gives none.
	MinSwipeMs = 1000
	MaxSwipeMs = 2000
	// MaxTextBytes bounds the text of one type action.
	MaxTextBytes = 64 * 1024
	// b64Chunk is how many bytes of text go in one ADB_INPUT_B64
	// broadcast, so no command line grows past what shells accept.
	b64Chunk = 3 * 1024
	// clearDeletes is how many DELs clear a field without the ADB
	// Keyboard.
	clearDeletes = 64
)

// TextMode says how text is typed.
type TextMode int

const (
	// TextADBKeyboard types through the ADB Keyboard's broadcasts
	// (ADB_CLEAR_TEXT, ADB_INPUT_B64); any Unicode text. The keyboard
	// must be the current IME for them to arrive.
	TextADBKeyboard TextMode = iota
	// TextInput types with `input text`: printable ASCII and newlines
	// only.
	TextInput
)

// ErrNonASCII is returned for text `input text` cannot type (anything
// but printable ASCII and newlines) when the ADB Keyboard is missing.
var ErrNonASCII = errors.New("text is not printable ASCII and the ADB Keyboard (" + ADBKeyboardIME + ") is not installed")

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
	"wakeup":      "KEYCODE_WAKEUP",
	"sleep":       "KEYCODE_SLEEP",
}

// KeyArg returns the `input keyevent` argument for a contract key name:
// "back", "home", "enter", "delete", "app_switch", "volume_up",
// "volume_down", "power" (and a few more), a KEYCODE_ name or a number.
func KeyArg(name string) (string, error) {
	n := strings.TrimSpace(name)
	if v, ok := keyNames[strings.ToLower(n)]; ok {
		return v, nil
	}
	if code, err := strconv.Atoi(n); err == nil && code >= 0 && code < 400 {
		return strconv.Itoa(code), nil
	}
	up := strings.ToUpper(n)
	if strings.HasPrefix(up, "KEYCODE_") && len(up) > len("KEYCODE_") && len(up) < 64 &&
		strings.Trim(up, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return up, nil
	}
	return "", fmt.Errorf("unknown key %q (want back, home, enter, delete, app_switch, volume_up, volume_down, power, a KEYCODE_ name or a number)", name)
}

// SwipeMs is the swipe duration Commands uses: the action's, or
// Open-AutoGLM's distance² / 1000 ms clamped to 1–2 s.
func SwipeMs(a *cpv1.Action) int {
	if d := a.GetDurationMs(); d > 0 {
		return int(d)
	}
	dx := int64(a.GetPoint().GetX()) - int64(a.GetEnd().GetX())
	dy := int64(a.GetPoint().GetY()) - int64(a.GetEnd().GetY())
	return int(min(max((dx*dx+dy*dy)/1000, MinSwipeMs), MaxSwipeMs))
}

// point checks that p is set and on the screen (when its size is known).
func point(p *cpv1.Point, screen *cpv1.ScreenSize, what string) (int, int, error) {
	if p == nil {
		return 0, 0, fmt.Errorf("%s needs a point", what)
	}
	x, y := int(p.GetX()), int(p.GetY())
	w, h := int(screen.GetWidth()), int(screen.GetHeight())
	if x < 0 || y < 0 || (w > 0 && x >= w) || (h > 0 && y >= h) {
		return 0, 0, fmt.Errorf("%s at (%d, %d) is off the %dx%d screen", what, x, y, w, h)
	}
	return x, y, nil
}

// Commands maps a device-changing action to the shell commands an adb
// backend sends, in order, with text typed as mode says. Points must lie
// on screen (checked when screen is non-nil). Wait, take_over and note
// have no commands. Switching to the ADB Keyboard is not included: it
// depends on the device's current IME (Act handles it).
func Commands(a *cpv1.Action, screen *cpv1.ScreenSize, mode TextMode) ([]string, error) {
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_TAP:
		x, y, err := point(a.GetPoint(), screen, "tap")
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("input tap %d %d", x, y)}, nil
	case cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP:
		x, y, err := point(a.GetPoint(), screen, "double tap")
		if err != nil {
			return nil, err
		}
		tap := fmt.Sprintf("input tap %d %d", x, y)
		return []string{tap, tap}, nil
	case cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		x, y, err := point(a.GetPoint(), screen, "long press")
		if err != nil {
			return nil, err
		}
		ms := int(a.GetDurationMs())
		if ms <= 0 {
			ms = LongPressMs
		}
		return []string{fmt.Sprintf("input swipe %d %d %d %d %d", x, y, x, y, ms)}, nil
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		x1, y1, err := point(a.GetPoint(), screen, "swipe start")
		if err != nil {
			return nil, err
		}
		x2, y2, err := point(a.GetEnd(), screen, "swipe end")
		if err != nil {
			return nil, err
		}
		return []string{fmt.Sprintf("input swipe %d %d %d %d %d", x1, y1, x2, y2, SwipeMs(a))}, nil
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		return typeCommands(a.GetText(), a.GetClearText(), mode)
	case cpv1.ActionType_ACTION_TYPE_KEY:
		k, err := KeyArg(a.GetKey())
		if err != nil {
			return nil, err
		}
		return []string{"input keyevent " + k}, nil
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		pkg := a.GetPackage()
		if pkg == "" {
			pkg = PackageForApp(a.GetApp())
		}
		if pkg == "" {
			return nil, fmt.Errorf("launch: no package, and app %q is not one known by name", a.GetApp())
		}
		if !ValidPackage(pkg) {
			return nil, fmt.Errorf("launch: %q is not a package name", pkg)
		}
		return []string{LaunchCommand(pkg)}, nil
	case cpv1.ActionType_ACTION_TYPE_WAIT, cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
		return nil, nil
	case cpv1.ActionType_ACTION_TYPE_UNSPECIFIED:
		return nil, errors.New("action has no type")
	}
	return nil, fmt.Errorf("unknown action type %d", a.GetType())
}

// LaunchCommand starts pkg's launcher activity, as Open-AutoGLM does. pkg
// must satisfy ValidPackage.
func LaunchCommand(pkg string) string {
	return "monkey -p " + pkg + " -c android.intent.category.LAUNCHER 1"
}

// typeCommands types text (after clearing the field when clear is set).
func typeCommands(text string, clear bool, mode TextMode) ([]string, error) {
	if len(text) > MaxTextBytes {
		return nil, fmt.Errorf("type: text of %d bytes is longer than %d", len(text), MaxTextBytes)
	}
	if !utf8.ValidString(text) {
		return nil, errors.New("type: text is not valid UTF-8")
	}
	var cmds []string
	if mode == TextADBKeyboard {
		if clear {
			cmds = append(cmds, "am broadcast -a ADB_CLEAR_TEXT")
		}
		for len(text) > 0 {
			n := min(len(text), b64Chunk)
			for n < len(text) && !utf8.RuneStart(text[n]) {
				n--
			}
			cmds = append(cmds, "am broadcast -a ADB_INPUT_B64 --es msg "+base64.StdEncoding.EncodeToString([]byte(text[:n])))
			text = text[n:]
		}
		return cmds, nil
	}
	if clear {
		cmds = append(cmds, "input keyevent KEYCODE_MOVE_END"+strings.Repeat(" KEYCODE_DEL", clearDeletes))
	}
	in, err := InputTextCommands(text)
	if err != nil {
		return nil, fmt.Errorf("type: %w", err)
	}
	return append(cmds, in...), nil
}

// InputTextCommands types text with `input text`, which takes printable
// ASCII only: spaces become %s (a literal "%s" is typed in two parts), the
// argument is single-quoted for the device's shell, and each newline
// becomes an Enter key event. Other characters give ErrNonASCII.
func InputTextCommands(text string) ([]string, error) {
	var cmds []string
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			cmds = append(cmds, "input keyevent KEYCODE_ENTER")
		}
		for _, r := range line {
			if r < 0x20 || r > 0x7e {
				return nil, ErrNonASCII
			}
		}
		parts := strings.Split(line, "%s")
		for j, p := range parts {
			if j > 0 {
				p = "s" + p
			}
			if j < len(parts)-1 {
				p += "%"
			}
			if p == "" {
				continue
			}
			cmds = append(cmds, "input text "+ShellQuote(strings.ReplaceAll(p, " ", "%s")))
		}
	}
	return cmds, nil
}

// ShellQuote quotes s as one word for Android's shell (mksh/toybox sh).
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
