package android

import (
	"testing"
)

func TestParseFocus(t *testing.T) {
	for _, c := range []struct {
		name, in string
		pkg, act string
		ok       bool
	}{
		{"current focus", "  mCurrentFocus=Window{33990ba u0 com.tencent.mm/com.tencent.mm.ui.LauncherUI}\n", "com.tencent.mm", "com.tencent.mm.ui.LauncherUI", true},
		{"short activity", "mCurrentFocus=Window{1 u0 com.android.settings/.Settings}", "com.android.settings", ".Settings", true},
		{"status bar falls back to focused app (Android 10+)",
			"  mCurrentFocus=Window{a u0 StatusBar}\n  mFocusedApp=ActivityRecord{b u0 com.taobao.taobao/.Main t12}\n", "com.taobao.taobao", ".Main", true},
		{"null focus, app window token (Android 9)",
			"  mCurrentFocus=null\n  mFocusedApp=AppWindowToken{c token=Token{d ActivityRecord{e u0 com.sankuai.meituan/.Home t3}}}\n", "com.sankuai.meituan", ".Home", true},
		{"focused app line first", "mFocusedApp=ActivityRecord{b u0 a.b/.X t1}\nmCurrentFocus=Window{f u0 c.d/.Y}\n", "c.d", ".Y", true},
		{"popup window", "mCurrentFocus=Window{f u0 PopupWindow:5b1c}\n", "", "", false},
		{"nothing", "", "", "", false},
		{"garbage", "mCurrentFocus=/// {{ }} ===\nmFocusedApp=", "", "", false},
		{"no dot package", "mCurrentFocus=Window{f u0 android/foo}\n", "", "", false},
	} {
		f, ok := ParseFocus(c.in)
		if ok != c.ok || f.Package != c.pkg || f.Activity != c.act {
			t.Errorf("%s: ParseFocus = %+v %v, want %s %s %v", c.name, f, ok, c.pkg, c.act, c.ok)
		}
	}
}

func TestParseWMSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		w, h int
		ok   bool
	}{
		{"Physical size: 1080x2400\n", 1080, 2400, true},
		{"Physical size: 1080x2400\r\nOverride size: 720x1600\r\n", 720, 1600, true},
		{"Override size: 720x1600\nPhysical size: 1080x2400\n", 720, 1600, true},
		{"Physical size: 0x2400\n", 0, 0, false},
		{"Physical size: axb\n", 0, 0, false},
		{"Physical size: 99999999x1\n", 0, 0, false},
		{"", 0, 0, false},
	} {
		w, h, ok := ParseWMSize(c.in)
		if w != c.w || h != c.h || ok != c.ok {
			t.Errorf("ParseWMSize(%q) = %d %d %v", c.in, w, h, ok)
		}
	}
}

func TestParseBattery(t *testing.T) {
	in := "Current Battery Service state:\n  AC powered: false\n  USB powered: true\n  status: 2\n  present: true\n  level: 85\n  scale: 100\n  temperature: 280\n"
	b, ok := ParseBattery(in)
	if !ok || b.Percent() != 85 || !b.Powered || b.Status != 2 || !b.Present || b.TemperatureC != 28 {
		t.Errorf("ParseBattery = %+v %v", b, ok)
	}
	b, ok = ParseBattery("  level: 50\n  scale: 200\n")
	if !ok || b.Percent() != 25 {
		t.Errorf("scale 200: %+v %v", b, ok)
	}
	if b, ok := ParseBattery("Can't find service: battery\n"); ok || b.Percent() != -1 {
		t.Errorf("no battery: %+v %v", b, ok)
	}
}

func TestParsePower(t *testing.T) {
	for _, c := range []struct {
		in     string
		wake   string
		on, ok bool
	}{
		{"  mWakefulness=Awake\nDisplay Power: state=ON\n", "Awake", true, true},
		{"  mWakefulness=Asleep\nDisplay Power: state=OFF\n", "Asleep", false, true},
		{"  mWakefulness=Dozing\nDisplay Power: state=DOZE\n", "Dozing", false, true},
		{"Display Power: state=ON\n", "", true, true},
		{"  mScreenOn=true\n", "Awake", true, true},
		{"nothing\n", "", false, false},
	} {
		p, ok := ParsePower(c.in)
		if p.Wakefulness != c.wake || p.ScreenOn != c.on || ok != c.ok {
			t.Errorf("ParsePower(%q) = %+v %v", c.in, p, ok)
		}
	}
}

func TestParseIMEs(t *testing.T) {
	cur, all := ParseIMEs("com.android.inputmethod.latin/.LatinIME\ncom.android.inputmethod.latin/.LatinIME\ncom.android.adbkeyboard/.AdbIME\n")
	if cur != "com.android.inputmethod.latin/.LatinIME" || len(all) != 2 || all[1] != ADBKeyboardIME {
		t.Errorf("ParseIMEs = %q %q", cur, all)
	}
	if cur, all := ParseIMEs("null\n"); cur != "" || len(all) != 0 {
		t.Errorf("null: %q %q", cur, all)
	}
}
