package phone

import (
	"encoding/json"
	"strconv"
)

// State is a JSON-serialisable dump of everything a test may want to check
// after an agent ran: where the phone is, what is typed, and what each app
// recorded. It is a deep copy; changing it changes nothing on the phone.
type State struct {
	Serial  string `json:"serial"`
	Version uint64 `json:"version"` // grows with every change to the screen
	Booted  bool   `json:"booted"`
	Awake   bool   `json:"awake"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	// CurrentApp is the foreground package (com.android.launcher3 at home)
	// and CurrentAppName its display name ("微信"; "" at home).
	CurrentApp     string `json:"current_app"`
	CurrentAppName string `json:"current_app_name"`
	Activity       string `json:"activity"` // e.g. com.tencent.mm/.ui.LauncherUI
	Screen         string `json:"screen"`   // screen kind, e.g. wechat.chat
	ScreenArg      string `json:"screen_arg,omitempty"`
	// BackStack is the foreground task's screens, bottom first, each as
	// kind or kind:arg.
	BackStack []string            `json:"back_stack"`
	Tasks     map[string][]string `json:"tasks"`
	Recents   []string            `json:"recents"`
	Keyboard  KeyboardState       `json:"keyboard"`
	Toast     string              `json:"toast,omitempty"`
	Settings  SettingsState       `json:"settings"`
	// SettingsTables is every setting by namespace (system, secure,
	// global), as `settings get` sees them.
	SettingsTables map[string]map[string]string `json:"settings_tables"`
	WeChat         WeChatState                  `json:"wechat"`
	Meituan        MeituanState                 `json:"meituan"`
	Taobao         TaobaoState                  `json:"taobao"`
	Amap           AmapState                    `json:"amap"`
	Browser        BrowserState                 `json:"browser"`
}

// KeyboardState is the soft keyboard and the focused field.
type KeyboardState struct {
	Shown   bool   `json:"shown"`
	IME     string `json:"ime"`
	Focused string `json:"focused,omitempty"` // resource-id of the focused field
	Text    string `json:"text,omitempty"`    // its text
}

// SettingsState is the Settings app's view of the settings tables.
type SettingsState struct {
	WiFi           bool `json:"wifi"`
	Bluetooth      bool `json:"bluetooth"`
	Airplane       bool `json:"airplane"`
	Brightness     int  `json:"brightness"` // 0..255
	AutoBrightness bool `json:"auto_brightness"`
	DarkMode       bool `json:"dark_mode"`
}

// State returns a snapshot of the phone's state.
func (p *Phone) State() State {
	p.mu.Lock()
	w := p.w
	pkg, _, short := w.component()
	s := w.cur()
	st := State{
		Serial:         p.opts.Serial,
		Version:        w.version,
		Booted:         !p.booting(),
		Awake:          w.awake,
		Width:          p.opts.Width,
		Height:         p.opts.Height,
		CurrentApp:     pkg,
		Activity:       short,
		Screen:         s.kind,
		ScreenArg:      s.arg,
		Tasks:          map[string][]string{},
		Recents:        w.recents,
		Toast:          w.toast,
		SettingsTables: w.settings,
		Settings: SettingsState{
			WiFi:           w.on("global", "wifi_on"),
			Bluetooth:      w.on("global", "bluetooth_on"),
			Airplane:       w.on("global", "airplane_mode_on"),
			Brightness:     w.brightness(),
			AutoBrightness: w.on("system", "screen_brightness_mode"),
			DarkMode:       w.get("secure", "ui_night_mode") == "2",
		},
		Keyboard: KeyboardState{
			Shown:   w.kbShown && s.focus != "",
			IME:     w.get("secure", "default_input_method"),
			Focused: s.focus,
			Text:    s.field(s.focus),
		},
		WeChat:  w.wechat,
		Meituan: w.meituan,
		Taobao:  w.taobao,
		Amap:    w.amap,
		Browser: w.browser,
	}
	if w.inRecent {
		st.Screen, st.ScreenArg = "recents", ""
	}
	if a := appByPkg(pkg); a != nil {
		st.CurrentAppName = a.label
	}
	for tp, stack := range w.tasks {
		var names []string
		for _, sc := range stack {
			names = append(names, screenName(sc))
		}
		st.Tasks[tp] = names
		if tp == w.fg {
			st.BackStack = names
		}
	}
	if w.fg == "" {
		st.BackStack = []string{"launcher"}
	}
	// Deep-copy through JSON while the lock is held: the snapshot shares
	// no maps or slices with the live world.
	data, err := json.Marshal(st)
	p.mu.Unlock()
	var out State
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	if err != nil {
		return State{Serial: p.opts.Serial, Version: st.Version}
	}
	return out
}

func screenName(s *screen) string {
	if s.arg == "" {
		return s.kind
	}
	return s.kind + ":" + s.arg
}

// price formats cents as ¥12.90 style text.
func price(cents int) string {
	yuan := cents / 100
	c := cents % 100
	if c == 0 {
		return "¥" + strconv.Itoa(yuan)
	}
	if c%10 == 0 {
		return "¥" + strconv.Itoa(yuan) + "." + strconv.Itoa(c/10)
	}
	return "¥" + strconv.Itoa(yuan) + "." + strconv.Itoa(c/10) + strconv.Itoa(c%10)
}
