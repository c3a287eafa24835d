package phone

import (
	"fmt"
	"image"
	"strconv"
	"strings"
)

// Android key codes the simulator acts on or accepts.
var keyCodes = map[string]int{
	"UNKNOWN": 0, "SOFT_LEFT": 1, "SOFT_RIGHT": 2, "HOME": 3, "BACK": 4, "CALL": 5, "ENDCALL": 6,
	"DPAD_UP": 19, "DPAD_DOWN": 20, "DPAD_LEFT": 21, "DPAD_RIGHT": 22, "DPAD_CENTER": 23,
	"VOLUME_UP": 24, "VOLUME_DOWN": 25, "POWER": 26, "CAMERA": 27, "CLEAR": 28,
	"COMMA": 55, "PERIOD": 56, "TAB": 61, "SPACE": 62, "ENTER": 66, "DEL": 67,
	"MENU": 82, "SEARCH": 84, "MEDIA_PLAY_PAUSE": 85, "PAGE_UP": 92, "PAGE_DOWN": 93,
	"ESCAPE": 111, "FORWARD_DEL": 112, "MOVE_HOME": 122, "MOVE_END": 123,
	"VOLUME_MUTE": 164, "APP_SWITCH": 187, "SLEEP": 223, "WAKEUP": 224, "ALL_APPS": 284,
}

func init() {
	for i := 0; i < 10; i++ {
		keyCodes[strconv.Itoa(i)] = 7 + i
	}
	for c := 'A'; c <= 'Z'; c++ {
		keyCodes[string(c)] = 29 + int(c-'A')
	}
}

func parseKeyCode(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n >= 0 && n < 400
	}
	n, ok := keyCodes[strings.TrimPrefix(strings.ToUpper(s), "KEYCODE_")]
	return n, ok
}

const inputUsage = `Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]

The sources are:
      keyboard
      touchscreen
      mouse

The commands and default sources are:
      text <string> (Default: keyboard)
      keyevent [--longpress|--doubletap] <key code number or name> ... (Default: keyboard)
      tap <x> <y> (Default: touchscreen)
      swipe <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)
      draganddrop <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)
      press (Default: trackball)
      roll <dx> <dy> (Default: trackball)
`

func cmdInput(sh *shell, args []string, io stdio) int {
	for len(args) > 0 {
		switch args[0] {
		case "keyboard", "touchscreen", "mouse", "touchpad", "stylus", "trackball", "dpad", "gamepad", "joystick", "touchnavigation":
			args = args[1:]
			continue
		case "-d":
			if len(args) > 1 {
				args = args[2:]
				continue
			}
		}
		break
	}
	if len(args) == 0 {
		fmt.Fprint(io.err, inputUsage)
		return 1
	}
	nums := func(a []string, n int) ([]int, bool) {
		if len(a) < n {
			return nil, false
		}
		out := make([]int, len(a))
		for i, s := range a {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, false
			}
			out[i] = int(f)
		}
		return out, true
	}
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	switch args[0] {
	case "tap":
		v, ok := nums(args[1:], 2)
		if !ok || len(v) != 2 {
			fmt.Fprint(io.err, inputUsage)
			return 1
		}
		p.tap(v[0], v[1], false)
	case "swipe", "draganddrop":
		v, ok := nums(args[1:], 4)
		if !ok || len(v) > 5 {
			fmt.Fprint(io.err, inputUsage)
			return 1
		}
		ms := 300
		if len(v) == 5 {
			ms = v[4]
		}
		p.swipe(v[0], v[1], v[2], v[3], ms)
	case "text":
		if len(args) < 2 {
			fmt.Fprint(io.err, inputUsage)
			return 1
		}
		p.inputText(args[1])
	case "keyevent", "press":
		codes := args[1:]
		long := false
		if len(codes) > 0 && (codes[0] == "--longpress" || codes[0] == "--doubletap") {
			long, codes = codes[0] == "--longpress", codes[1:]
		}
		if args[0] == "press" {
			codes = []string{"23"}
		}
		if len(codes) == 0 {
			fmt.Fprint(io.err, inputUsage)
			return 1
		}
		for _, c := range codes {
			code, ok := parseKeyCode(c)
			if !ok {
				fmt.Fprintf(io.err, "Error: Unknown keycode %s\n", c)
				return 1
			}
			p.key(code, long)
		}
	case "roll", "motionevent", "scroll":
	default:
		fmt.Fprintf(io.err, "Error: Unknown command: %s\n", args[0])
		fmt.Fprint(io.err, inputUsage)
		return 1
	}
	return 0
}

// tap delivers a touch at screen pixel (x, y). Called with p.mu held.
func (p *Phone) tap(x, y int, long bool) {
	w := p.w
	if !w.awake || p.booting() {
		return
	}
	w.toast = ""
	// The navigation bar: back, home, recents.
	if y >= p.opts.Height*navTop/designH {
		switch third := x * 3 / max(p.opts.Width, 1); third {
		case 0:
			w.back()
		case 1:
			w.goHome()
		default:
			p.key(187, false)
		}
		return
	}
	f := p.build()
	n := f.at(image.Pt(x, y), long)
	if n == nil {
		return
	}
	if long {
		n.long()
	} else {
		n.tap(x, y)
	}
	w.changed()
}

// swipe delivers a gesture from (x1,y1) to (x2,y2) over ms milliseconds.
func (p *Phone) swipe(x1, y1, x2, y2, ms int) {
	w := p.w
	if !w.awake || p.booting() {
		return
	}
	dx, dy := x2-x1, y2-y1
	slop := max(p.opts.Width/54, 8) // ~8dp touch slop
	if dx*dx+dy*dy <= slop*slop {
		p.tap(x1, y1, ms >= 500) // Android's long-press timeout is 500 ms
		return
	}
	w.toast = ""
	// A swipe up from the bottom edge is the home gesture.
	if y1 >= p.opts.Height*navTop/designH && -dy > p.opts.Height/10 {
		w.goHome()
		return
	}
	f := p.build()
	start := image.Pt(x1, y1)
	if n := hit(f.root, start, false); n != nil && n.Class == "android.widget.SeekBar" {
		n.tap(x2, y2)
		w.changed()
		return
	}
	if n := scrollableAt(f.root, start); n != nil {
		s := w.cur()
		s.scroll -= dy * designH / max(p.opts.Height, 1)
		w.changed()
	}
}

// inputText types what `input text` would: %s is a space; characters
// outside ASCII cannot be typed through key events and are dropped, as on
// a real phone (use the ADB Keyboard for those).
func (p *Phone) inputText(s string) {
	if !p.w.awake || p.booting() {
		return
	}
	s = strings.ReplaceAll(s, "%s", " ")
	var b strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	p.w.typeText(b.String())
}

// key delivers one key event. Called with p.mu held.
func (p *Phone) key(code int, long bool) {
	w := p.w
	if p.booting() {
		return
	}
	switch code {
	case 26: // POWER
		w.awake = !w.awake
		w.changed()
		return
	case 223:
		w.awake = false
		w.changed()
		return
	case 224:
		w.awake = true
		w.changed()
		return
	}
	if !w.awake {
		return
	}
	switch {
	case code == 3:
		w.goHome()
	case code == 4 || code == 111:
		w.back()
	case code == 187:
		if w.inRecent {
			w.inRecent = false
		} else {
			w.inRecent = true
			w.kbShown = false
		}
		w.changed()
	case code == 66 || code == 84 || code == 23:
		f := p.build()
		if !w.imeAction(f.actions, w.cur()) && code == 66 {
			w.typeText("\n")
		}
	case code == 67:
		w.deleteChar()
	case code == 28:
		w.clearText()
	case code == 62:
		w.typeText(" ")
	case code == 61:
		w.typeText("\t")
	case code == 55:
		w.typeText(",")
	case code == 56:
		w.typeText(".")
	case code >= 7 && code <= 16:
		w.typeText(strconv.Itoa(code - 7))
	case code >= 29 && code <= 54:
		w.typeText(string(rune('a' + code - 29)))
	case code == 24 || code == 25:
		v, _ := strconv.Atoi(w.get("system", "volume_music"))
		if code == 24 {
			v = min(v+1, 15)
		} else {
			v = max(v-1, 0)
		}
		w.put("system", "volume_music", strconv.Itoa(v))
	}
	_ = long
}
