package phone

import (
	"image/color"
	"strconv"
	"time"
)

// screen is one activity instance in a task's back stack.
type screen struct {
	kind   string            // key into screenKinds, e.g. "wechat.chat"
	arg    string            // what it shows: contact, query, shop ID...
	tab    int               // selected tab for screens with tabs
	scroll int               // list scroll offset, design pixels
	fields map[string]string // EditText contents by resource-id
	focus  string            // resource-id of the focused EditText
}

func (s *screen) field(id string) string { return s.fields[id] }

func (s *screen) setField(id, v string) {
	if s.fields == nil {
		s.fields = map[string]string{}
	}
	s.fields[id] = v
}

// screenKind describes one kind of screen (an Activity).
type screenKind struct {
	pkg      string
	activity string // short class name, e.g. ".ui.LauncherUI"
	build    func(b *builder)
	// autofocus is the resource-id of the EditText focused, with the
	// keyboard shown, when the screen opens (search pages do this).
	autofocus string
}

var screenKinds = map[string]*screenKind{}

func registerScreen(kind, pkg, activity string, build func(b *builder)) *screenKind {
	k := &screenKind{pkg: pkg, activity: activity, build: build}
	screenKinds[kind] = k
	return k
}

// appInfo is one installed app with a launcher icon.
type appInfo struct {
	pkg   string
	label string // Chinese display name (what AutoGLM calls the app)
	en    string // English name, exposed as content-desc
	color color.RGBA
	main  string // screen kind of the launcher activity
}

// launcherApps are the apps on the home screen, in grid order.
var launcherApps = []appInfo{
	{"com.tencent.mm", "微信", "WeChat", rgb(0x07, 0xc1, 0x60), "wechat.home"},
	{"com.taobao.taobao", "淘宝", "Taobao", rgb(0xff, 0x50, 0x00), "taobao.home"},
	{"com.sankuai.meituan", "美团", "Meituan", rgb(0xff, 0xc3, 0x00), "meituan.home"},
	{"com.autonavi.minimap", "高德地图", "Amap", rgb(0x1e, 0x7c, 0xf2), "amap.home"},
	{"com.android.settings", "设置", "Settings", rgb(0x5f, 0x63, 0x68), "settings.home"},
	{"com.android.browser", "浏览器", "Browser", rgb(0x2b, 0x6c, 0xe0), "browser.home"},
}

const launcherPkg = "com.android.launcher3"

// systemPackages are installed but have no launcher icon.
var systemPackages = []string{
	"android", "com.android.systemui", launcherPkg, "com.android.shell", "com.android.phone",
	"com.android.providers.settings", "com.android.inputmethod.latin", "com.android.adbkeyboard",
	"com.android.packageinstaller", "com.android.webview",
}

func appByPkg(pkg string) *appInfo {
	for i := range launcherApps {
		if launcherApps[i].pkg == pkg {
			return &launcherApps[i]
		}
	}
	return nil
}

// IME ids.
const (
	imeLatin = "com.android.inputmethod.latin/.LatinIME"
	imeADB   = "com.android.adbkeyboard/.AdbIME"
)

// world is the whole mutable Android state of one phone, guarded by
// Phone.mu.
type world struct {
	version   uint64 // bumped by every change that can alter the screen
	bootUntil time.Time

	settings map[string]map[string]string // namespace -> key -> value
	tasks    map[string][]*screen         // package -> back stack
	fg       string                       // foreground package; "" is the launcher
	recents  []string                     // packages, most recent first
	inRecent bool                         // recents overview shown
	kbShown  bool                         // soft keyboard visible
	awake    bool
	toast    string
	home     *screen

	wechat  WeChatState
	meituan MeituanState
	taobao  TaobaoState
	amap    AmapState
	browser BrowserState
}

func newWorld() *world {
	w := &world{
		settings: map[string]map[string]string{
			"system": {
				"screen_brightness":      "102",
				"screen_brightness_mode": "0",
				"screen_off_timeout":     "600000",
				"font_scale":             "1.0",
				"accelerometer_rotation": "0",
				"volume_music":           "8",
			},
			"secure": {
				"default_input_method":        imeLatin,
				"enabled_input_methods":       imeLatin + ":" + imeADB,
				"android_id":                  "a1b2c3d4e5f60718",
				"location_mode":               "3",
				"ui_night_mode":               "1",
				"show_ime_with_hard_keyboard": "1",
			},
			"global": {
				"airplane_mode_on":             "0",
				"wifi_on":                      "1",
				"bluetooth_on":                 "0",
				"mobile_data":                  "1",
				"adb_enabled":                  "1",
				"development_settings_enabled": "1",
				"stay_on_while_plugged_in":     "7",
				"device_name":                  "CloudPhone",
				"window_animation_scale":       "1.0",
				"transition_animation_scale":   "1.0",
				"animator_duration_scale":      "1.0",
			},
		},
		tasks: map[string][]*screen{},
		awake: true,
		home:  &screen{kind: "launcher"},
	}
	w.wechat = newWeChatState()
	return w
}

func (w *world) get(ns, key string) string { return w.settings[ns][key] }

func (w *world) on(ns, key string) bool { return w.get(ns, key) == "1" }

func (w *world) put(ns, key, val string) {
	m := w.settings[ns]
	if m == nil {
		m = map[string]string{}
		w.settings[ns] = m
	}
	m[key] = val
	// Keep dependent settings consistent, as the framework does.
	if ns == "global" && key == "airplane_mode_on" && val == "1" {
		m["wifi_on"] = "0"
		m["bluetooth_on"] = "0"
	}
	w.version++
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (w *world) brightness() int {
	v, err := strconv.Atoi(w.get("system", "screen_brightness"))
	if err != nil {
		return 102
	}
	return min(max(v, 0), 255)
}

// cur returns the foreground screen.
func (w *world) cur() *screen {
	if st := w.tasks[w.fg]; w.fg != "" && len(st) > 0 {
		return st[len(st)-1]
	}
	return w.home
}

func (w *world) curPkg() string {
	if w.fg == "" {
		return launcherPkg
	}
	return w.fg
}

func (w *world) changed() { w.version++ }

// launch brings pkg's task to the front, starting it at its launcher
// activity if it is not running, as a launcher icon tap or monkey does.
func (w *world) launch(pkg string) bool {
	a := appByPkg(pkg)
	if a == nil {
		return false
	}
	if len(w.tasks[pkg]) == 0 {
		w.tasks[pkg] = []*screen{{kind: a.main}}
	}
	w.switchTo(pkg)
	return true
}

func (w *world) switchTo(pkg string) {
	w.fg = pkg
	w.inRecent = false
	w.kbShown = false
	w.toast = ""
	if pkg != "" {
		rs := []string{pkg}
		for _, r := range w.recents {
			if r != pkg {
				rs = append(rs, r)
			}
		}
		w.recents = rs
	}
	w.changed()
}

// push opens a new screen on top of the foreground task.
func (w *world) push(kind, arg string) *screen {
	s := &screen{kind: kind, arg: arg}
	pkg := screenKinds[kind].pkg
	if w.fg != pkg {
		w.fg = pkg
	}
	w.tasks[pkg] = append(w.tasks[pkg], s)
	w.kbShown = false
	if id := screenKinds[kind].autofocus; id != "" {
		s.focus = id
		w.kbShown = true
	}
	w.changed()
	return s
}

// replace swaps the top screen for a new one (an activity that finishes
// itself while starting the next).
func (w *world) replace(kind, arg string) *screen {
	if st := w.tasks[w.fg]; w.fg != "" && len(st) > 1 {
		w.tasks[w.fg] = st[:len(st)-1]
	}
	return w.push(kind, arg)
}

// home shows the launcher; tasks keep their screens.
func (w *world) goHome() {
	w.fg = ""
	w.inRecent = false
	w.kbShown = false
	w.toast = ""
	w.changed()
}

// back does what the back key does: hide the keyboard, close recents, pop
// a screen, or leave the app for the launcher at its root.
func (w *world) back() {
	w.toast = ""
	switch {
	case w.kbShown:
		w.kbShown = false
	case w.inRecent:
		w.inRecent = false
	case w.fg == "":
	default:
		st := w.tasks[w.fg]
		if len(st) > 1 {
			w.tasks[w.fg] = st[:len(st)-1]
		} else {
			w.fg = ""
		}
	}
	w.changed()
}

// forceStop kills pkg: its task is gone and, if it was in front, the
// launcher shows.
func (w *world) forceStop(pkg string) {
	delete(w.tasks, pkg)
	var rs []string
	for _, r := range w.recents {
		if r != pkg {
			rs = append(rs, r)
		}
	}
	w.recents = rs
	if w.fg == pkg {
		w.fg = ""
		w.kbShown = false
	}
	w.changed()
}

// activity returns the foreground component, e.g.
// "com.tencent.mm/.ui.LauncherUI".
func (w *world) activity() (pkg, act string) {
	if w.inRecent {
		return launcherPkg, ".RecentsActivity"
	}
	s := w.cur()
	k := screenKinds[s.kind]
	if k == nil {
		return launcherPkg, ".Launcher"
	}
	return k.pkg, k.activity
}

// focusedText returns the focused field's text, and whether one is focused.
func (w *world) focusedText() (string, bool) {
	s := w.cur()
	if s.focus == "" {
		return "", false
	}
	return s.field(s.focus), true
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 0xff} }
