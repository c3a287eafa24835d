package phone

import (
	"regexp"
	"strings"
	"testing"
)

func TestUIDumpFormat(t *testing.T) {
	p := New(Options{})
	out := must(t, p, "uiautomator dump /dev/tty")
	const head = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0"><node index="0" text="" resource-id="" class="android.widget.FrameLayout" package="com.android.launcher3" content-desc="" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" scrollable="false" long-clickable="false" password="false" selected="false" bounds="[0,0][1080,2400]">`
	if !strings.HasPrefix(out, head) {
		t.Fatalf("dump starts %q", out[:min(len(out), 400)])
	}
	if !strings.HasSuffix(out, "</hierarchy>UI hierchary dumped to: /dev/tty\n") {
		t.Fatalf("dump ends %q", out[max(len(out)-80, 0):])
	}
	nodes := dump(t, p)
	var icons []string
	for _, n := range nodes {
		if n.Clickable == "true" && n.Package == "com.android.launcher3" && n.Text != "" {
			icons = append(icons, n.Text)
			if r := n.rect(t); r.Empty() || r.Max.X > 1080 || r.Max.Y > 2400 {
				t.Errorf("%s bounds %v", n.Text, r)
			}
		}
	}
	for _, want := range []string{"微信", "淘宝", "美团", "高德地图", "设置"} {
		if !strings.Contains(strings.Join(icons, ","), want) {
			t.Errorf("launcher lacks %s icon: %v", want, icons)
		}
	}
	must(t, p, "uiautomator dump /sdcard/custom.xml")
	if _, err := p.FS().Stat("/sdcard/custom.xml"); err != nil {
		t.Fatal(err)
	}
}

func TestDumpsysWindowFormat(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1")
	out := must(t, p, "dumpsys window")
	focus := regexp.MustCompile(`(?m)^  mCurrentFocus=Window\{[0-9a-f]+ u0 com\.tencent\.mm/com\.tencent\.mm\.ui\.LauncherUI\}$`)
	app := regexp.MustCompile(`(?m)^  mFocusedApp=AppWindowToken\{[0-9a-f]+ token=Token\{[0-9a-f]+ ActivityRecord\{[0-9a-f]+ u0 com\.tencent\.mm/\.ui\.LauncherUI t\d+\}\}\}$`)
	if !focus.MatchString(out) || !app.MatchString(out) {
		t.Fatalf("dumpsys window:\n%s", out)
	}
	if got := currentApp(t, p); got != "微信" {
		t.Fatalf("current app %q", got)
	}
	must(t, p, "input keyevent KEYCODE_HOME")
	if got := currentApp(t, p); got != "System Home" {
		t.Fatalf("after HOME current app %q", got)
	}
}

func TestTapLauncherIcon(t *testing.T) {
	for _, size := range [][2]int{{1080, 2400}, {720, 1600}, {1440, 3200}} {
		p := New(Options{Width: size[0], Height: size[1]})
		tap(t, p, "微信")
		if got := currentApp(t, p); got != "微信" {
			t.Fatalf("%v: tap on 微信 opened %q", size, got)
		}
		if st := p.State(); st.CurrentApp != "com.tencent.mm" || st.CurrentAppName != "微信" {
			t.Fatalf("%v: state %+v", size, st)
		}
	}
}

func TestWeChatSendChinese(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1")
	tap(t, p, "张三")
	if st := p.State(); st.Screen != "wechat.chat" || st.ScreenArg != "张三" {
		t.Fatalf("screen %s:%s", st.Screen, st.ScreenArg)
	}
	// Without the ADB Keyboard selected the broadcast reaches nobody.
	tap(t, p, "com.tencent.mm:id/input")
	must(t, p, "am broadcast -a ADB_INPUT_TEXT --es msg lost")
	if kb := p.State().Keyboard; kb.Text != "" || !kb.Shown {
		t.Fatalf("keyboard %+v", kb)
	}
	const msg = "你好，明天见 👋"
	typeADB(t, p, msg)
	if kb := p.State().Keyboard; kb.Text != msg || kb.Focused != "com.tencent.mm:id/input" {
		t.Fatalf("keyboard %+v", kb)
	}
	in, _ := find(t, p, "com.tencent.mm:id/input")
	if in.Text != msg || in.Focused != "true" {
		t.Fatalf("input node %+v", in)
	}
	tap(t, p, "发送")
	st := p.State()
	c := st.WeChat.Chats[0]
	if c.Name != "张三" || c.Messages[len(c.Messages)-1].Text != msg || c.Messages[len(c.Messages)-1].From != Me {
		t.Fatalf("chat after send %+v", c)
	}
	if st.Keyboard.Text != "" {
		t.Fatalf("input not cleared: %+v", st.Keyboard)
	}
	if _, ok := find(t, p, msg); !ok {
		t.Fatal("sent message not on screen")
	}
	must(t, p, "am broadcast -a ADB_INPUT_TEXT --es msg abc")
	must(t, p, "am broadcast -a ADB_CLEAR_TEXT")
	if kb := p.State().Keyboard; kb.Text != "" {
		t.Fatalf("ADB_CLEAR_TEXT left %q", kb.Text)
	}
	// Back hides the keyboard first, then leaves the chat, then the app.
	must(t, p, "input keyevent 4")
	if st := p.State(); st.Keyboard.Shown || st.Screen != "wechat.chat" {
		t.Fatalf("after first back %+v", st.Keyboard)
	}
	must(t, p, "input keyevent 4")
	if st := p.State(); st.Screen != "wechat.home" {
		t.Fatalf("after second back %s", st.Screen)
	}
	must(t, p, "input keyevent 4")
	if st := p.State(); st.CurrentApp != launcherPkg {
		t.Fatalf("after third back %s", st.CurrentApp)
	}
}

func TestInputTextASCII(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.taobao.taobao 1")
	tap(t, p, "搜索宝贝")
	tap(t, p, "com.taobao.taobao:id/searchEdit")
	must(t, p, "input text 'iphone%scase'")
	must(t, p, "input text 手机") // not typeable with key events: dropped
	must(t, p, "input keyevent 67")
	if kb := p.State().Keyboard; kb.Text != "iphone cas" {
		t.Fatalf("typed %q", kb.Text)
	}
	// Keys of the on-screen keyboard type too.
	must(t, p, "input keyevent KEYCODE_E")
	must(t, p, "input keyevent 66")
	if st := p.State(); st.Screen != "taobao.results" || st.ScreenArg != "iphone case" {
		t.Fatalf("after ENTER %s:%s", st.Screen, st.ScreenArg)
	}
}

func TestSettingsToggles(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.android.settings -c android.intent.category.LAUNCHER 1")
	if got := currentApp(t, p); got != "Settings" {
		t.Fatalf("current app %q", got)
	}
	checked := func(id string) string {
		for _, n := range dump(t, p) {
			if n.ResourceID == "com.android.settings:id/"+id {
				for _, k := range n.Nodes {
					if k.Class == "android.widget.Switch" {
						return k.Checked
					}
				}
			}
		}
		t.Fatalf("no switch in row %s", id)
		return ""
	}
	tap(t, p, "WLAN")
	if v := must(t, p, "settings get global wifi_on"); v != "0\n" || checked("wifi") != "false" {
		t.Fatalf("wifi_on %q after toggle", v)
	}
	tap(t, p, "蓝牙")
	if v := must(t, p, "settings get global bluetooth_on"); v != "1\n" || checked("bluetooth") != "true" {
		t.Fatalf("bluetooth_on %q", v)
	}
	tap(t, p, "飞行模式")
	if v := must(t, p, "settings get global airplane_mode_on"); v != "1\n" {
		t.Fatalf("airplane %q", v)
	}
	if st := p.State().Settings; !st.Airplane || st.Bluetooth || st.WiFi {
		t.Fatalf("airplane mode left radios on: %+v", st)
	}
	must(t, p, "settings put global wifi_on 1")
	if checked("wifi") != "true" {
		t.Fatal("settings put not reflected in the Settings app")
	}
	tap(t, p, "显示与亮度")
	n, ok := find(t, p, "com.android.settings:id/brightness_seekbar")
	if !ok {
		t.Fatal("no brightness seekbar")
	}
	r := n.rect(t)
	must(t, p, "input tap "+itoa(r.Min.X+r.Dx()*3/4)+" "+itoa((r.Min.Y+r.Max.Y)/2))
	v := must(t, p, "settings get system screen_brightness")
	if v != "191\n" {
		t.Fatalf("brightness %q after tapping 3/4 of the slider", v)
	}
	tap(t, p, "调暗 Decrease brightness")
	if b := p.State().Settings.Brightness; b != 165 {
		t.Fatalf("brightness %d after 调暗", b)
	}
	must(t, p, "input keyevent 4")
	tap(t, p, "关于手机")
	if _, ok := find(t, p, "CloudPhone 1"); !ok {
		t.Fatal("about page lacks the model")
	}
}

func TestTaobaoCart(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.taobao.taobao -c android.intent.category.LAUNCHER 1")
	tap(t, p, "搜索宝贝")
	tap(t, p, "com.taobao.taobao:id/searchEdit")
	typeADB(t, p, "蓝牙耳机")
	tap(t, p, "搜索")
	st := p.State()
	if st.Screen != "taobao.results" || st.Taobao.Searches[0] != "蓝牙耳机" {
		t.Fatalf("after search %s %+v", st.Screen, st.Taobao)
	}
	tap(t, p, "Apple AirPods Pro 2 蓝牙耳机")
	for i := 1; i <= 2; i++ {
		tap(t, p, "加入购物车")
		if n := p.State().Taobao.CartCount; n != i {
			t.Fatalf("cart count %d after %d adds", n, i)
		}
	}
	tap(t, p, "购物车")
	if _, ok := find(t, p, "结算(2)"); !ok {
		t.Fatal("cart page lacks 结算(2)")
	}
	tap(t, p, "结算(2)")
	tap(t, p, "提交订单")
	st = p.State()
	if len(st.Taobao.Orders) != 1 || st.Taobao.CartCount != 0 || st.Taobao.Orders[0].Total != 2*179900 {
		t.Fatalf("after order %+v", st.Taobao)
	}
}

func TestMeituanOrder(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.sankuai.meituan -c android.intent.category.LAUNCHER 1")
	tap(t, p, "搜索美食、商家、商品")
	// Search pages focus their field and show the keyboard on opening.
	if kb := p.State().Keyboard; !kb.Shown || kb.Focused != "com.sankuai.meituan:id/search_edit" {
		t.Fatalf("search page keyboard %+v", kb)
	}
	typeADB(t, p, "咖啡")
	tap(t, p, "搜索")
	if _, ok := find(t, p, "瑞幸咖啡(科技园店)"); !ok {
		t.Fatal("咖啡 results lack 瑞幸")
	}
	if _, ok := find(t, p, "海底捞火锅(南山店)"); ok {
		t.Fatal("咖啡 results list a hotpot shop")
	}
	tap(t, p, "瑞幸咖啡(科技园店)")
	tap(t, p, "加入购物车")
	tap(t, p, "去结算")
	tap(t, p, "提交订单")
	st := p.State()
	if len(st.Meituan.Orders) != 1 || st.Meituan.Orders[0].Items[0].Name != "生椰拿铁" || len(st.Meituan.Cart) != 0 {
		t.Fatalf("meituan %+v", st.Meituan)
	}
	if _, ok := find(t, p, "下单成功"); !ok {
		t.Fatal("no 下单成功 page")
	}
	// Any query has results.
	must(t, p, "input keyevent 3")
	p2 := New(Options{})
	must(t, p2, "monkey -p com.sankuai.meituan 1")
	tap(t, p2, "火锅")
	if _, ok := find(t, p2, "海底捞火锅(南山店)"); !ok {
		t.Fatal("火锅 category lacks 海底捞")
	}
}

func TestAmapRoute(t *testing.T) {
	p := New(Options{})
	must(t, p, "am start -n com.autonavi.minimap/com.autonavi.map.activity.NewMapActivity")
	if got := currentApp(t, p); got != "高德地图" {
		t.Fatalf("current app %q", got)
	}
	tap(t, p, "查找地点、公交、地铁")
	tap(t, p, "com.autonavi.minimap:id/search_input")
	typeADB(t, p, "深圳湾公园")
	must(t, p, "am broadcast -a ADB_EDITOR_CODE --ei code 3")
	tap(t, p, "1. 深圳湾公园")
	tap(t, p, "路线")
	tap(t, p, "开始导航")
	st := p.State().Amap
	if !st.Navigating || st.RouteTo != "深圳湾公园" || st.Searches[0] != "深圳湾公园" {
		t.Fatalf("amap %+v", st)
	}
}

func TestNavigationKeys(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.tencent.mm 1")
	tap(t, p, "李四")
	must(t, p, "input keyevent KEYCODE_HOME")
	if st := p.State(); st.CurrentApp != launcherPkg {
		t.Fatalf("HOME left %s", st.CurrentApp)
	}
	// Relaunching brings the task back where it was.
	must(t, p, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1")
	if st := p.State(); st.Screen != "wechat.chat" || st.ScreenArg != "李四" {
		t.Fatalf("relaunch shows %s:%s", st.Screen, st.ScreenArg)
	}
	must(t, p, "input keyevent BACK")
	if st := p.State(); st.Screen != "wechat.home" {
		t.Fatalf("BACK shows %s", st.Screen)
	}
	must(t, p, "input keyevent 187")
	if st := p.State(); st.Screen != "recents" {
		t.Fatalf("APP_SWITCH shows %s", st.Screen)
	}
	tap(t, p, "微信")
	if st := p.State(); st.Screen != "wechat.home" {
		t.Fatalf("recents card opened %s", st.Screen)
	}
	// The navigation bar's home button and the home gesture.
	must(t, p, "input tap 540 2340")
	if st := p.State(); st.CurrentApp != launcherPkg {
		t.Fatalf("nav home left %s", st.CurrentApp)
	}
	must(t, p, "am start -n com.tencent.mm/.ui.LauncherUI")
	must(t, p, "input swipe 540 2390 540 1400 200")
	if st := p.State(); st.CurrentApp != launcherPkg {
		t.Fatalf("home gesture left %s", st.CurrentApp)
	}
	must(t, p, "am start -n com.tencent.mm/.ui.LauncherUI && am force-stop com.tencent.mm")
	if st := p.State(); st.CurrentApp != launcherPkg || len(st.Tasks["com.tencent.mm"]) != 0 {
		t.Fatalf("force-stop left %+v", st.Tasks)
	}
	must(t, p, "input keyevent 26")
	if out := must(t, p, "dumpsys power"); !strings.Contains(out, "mWakefulness=Asleep") {
		t.Fatalf("POWER did not sleep:\n%s", out)
	}
}

func TestMonkeyAndAm(t *testing.T) {
	p := New(Options{})
	out := must(t, p, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1")
	if !strings.Contains(out, "Events injected: 1\n") || !strings.HasPrefix(out, "  bash arg: -p\n") {
		t.Fatalf("monkey printed %q", out)
	}
	_, e, code := run(t, p, "monkey -p com.nope.app -c android.intent.category.LAUNCHER 1")
	if code == 0 || e != "** No activities found to run, monkey aborted.\n" {
		t.Fatalf("monkey unknown: %d %q", code, e)
	}
	out = must(t, p, "am start -n com.taobao.taobao/com.taobao.tao.TBMainActivity")
	if out != "Starting: Intent { cmp=com.taobao.taobao/com.taobao.tao.TBMainActivity }\n" {
		t.Fatalf("am start printed %q", out)
	}
	o, e, code := run(t, p, "am start -n com.foo/.Bar")
	if code == 0 || e != "Error type 3\nError: Activity class {com.foo/com.foo.Bar} does not exist.\n" || !strings.HasPrefix(o, "Starting: ") {
		t.Fatalf("am start unknown: %d %q %q", code, o, e)
	}
	out = must(t, p, "am broadcast -a ADB_INPUT_B64 --es msg 5L2g5aW9")
	if out != "Broadcasting: Intent { act=ADB_INPUT_B64 flg=0x400000 (has extras) }\nBroadcast completed: result=0\n" {
		t.Fatalf("am broadcast printed %q", out)
	}
}

func TestSwipeScrollAndLongPress(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.taobao.taobao 1")
	if _, ok := find(t, p, "Anker 65W 氮化镓充电器"); ok {
		t.Fatal("last product visible before scrolling")
	}
	must(t, p, "input swipe 540 1800 540 400 300")
	must(t, p, "input swipe 540 1800 540 400 300")
	if _, ok := find(t, p, "Anker 65W 氮化镓充电器"); !ok {
		t.Fatal("last product not visible after scrolling")
	}
	must(t, p, "monkey -p com.tencent.mm 1")
	n, _ := find(t, p, "张三")
	r := n.rect(t)
	must(t, p, "input swipe "+itoa(r.Min.X+10)+" "+itoa(r.Min.Y+10)+" "+itoa(r.Min.X+10)+" "+itoa(r.Min.Y+10)+" 3000")
	if st := p.State(); st.Toast == "" || st.Screen != "wechat.home" {
		t.Fatalf("long press: toast %q screen %s", st.Toast, st.Screen)
	}
}

func TestSoftKeyboardKeys(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.taobao.taobao 1")
	tap(t, p, "搜索宝贝") // the search page focuses its field and shows LatinIME
	// Key centres in the 1080×2400 layout: "a" on the second row, then the
	// enter key at the bottom right.
	must(t, p, "input tap 108 1760")
	must(t, p, "input tap 108 1760")
	if kb := p.State().Keyboard; kb.Text != "aa" || !kb.Shown {
		t.Fatalf("keyboard %+v", kb)
	}
	must(t, p, "input tap 999 2150")
	if st := p.State(); st.Screen != "taobao.results" || st.ScreenArg != "aa" {
		t.Fatalf("enter key: %s:%s", st.Screen, st.ScreenArg)
	}
}
