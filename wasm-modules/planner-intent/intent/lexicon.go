package intent

import (
	"regexp"
	"sort"
	"strings"
)

// App is an Android app the planner can name and launch.
type App struct {
	Package string
	Name    string   // display name, as AutoGLM and the launcher call it
	Aliases []string // other names, Chinese and English
}

// Apps are the apps the planner knows, by display name. The first six are
// on the simulated phone; the rest are common apps with their real
// packages.
var Apps = []App{
	{"com.tencent.mm", "微信", []string{"WeChat", "Weixin", "wx"}},
	{"com.taobao.taobao", "淘宝", []string{"Taobao", "手机淘宝"}},
	{"com.sankuai.meituan", "美团", []string{"Meituan"}},
	{"com.autonavi.minimap", "高德地图", []string{"高德", "Amap", "Gaode", "Gaode Map", "Gaode Maps", "AutoNavi"}},
	{"com.android.settings", "设置", []string{"Settings", "系统设置", "Setting"}},
	{"com.android.browser", "浏览器", []string{"Browser", "Web browser", "Internet"}},
	{"com.xingin.xhs", "小红书", []string{"Xiaohongshu", "RedNote"}},
	{"tv.danmaku.bili", "哔哩哔哩", []string{"bilibili", "B站"}},
	{"com.eg.android.AlipayGphone", "支付宝", []string{"Alipay"}},
	{"com.ss.android.ugc.aweme", "抖音", []string{"Douyin", "TikTok"}},
	{"com.tencent.mobileqq", "QQ", nil},
	{"com.jingdong.app.mall", "京东", []string{"JD", "Jingdong"}},
	{"com.xunmeng.pinduoduo", "拼多多", []string{"Pinduoduo"}},
	{"com.baidu.BaiduMap", "百度地图", []string{"Baidu Maps", "Baidu Map"}},
	{"com.android.chrome", "Chrome", []string{"Google Chrome"}},
}

const (
	pkgWeChat   = "com.tencent.mm"
	pkgTaobao   = "com.taobao.taobao"
	pkgMeituan  = "com.sankuai.meituan"
	pkgAmap     = "com.autonavi.minimap"
	pkgSettings = "com.android.settings"
	pkgBrowser  = "com.android.browser"
	pkgLauncher = "com.android.launcher3"
)

// appNames maps every folded name to its app; appPattern is a regexp
// alternation of all names, longest first.
var (
	appNames   = indexApps()
	appPattern = alternation(appNameList(), false)
)

func indexApps() map[string]*App {
	m := map[string]*App{}
	for i := range Apps {
		a := &Apps[i]
		for _, n := range append([]string{a.Name}, a.Aliases...) {
			m[strings.ToLower(n)] = a
		}
	}
	return m
}

func appNameList() []string {
	var names []string
	for _, a := range Apps {
		names = append(names, a.Name)
		names = append(names, a.Aliases...)
	}
	return names
}

// alternation returns a regexp alternation of names, longest first; with
// looseSpace, a space in a name also matches a hyphen or nothing.
func alternation(names []string, looseSpace bool) string {
	names = append([]string(nil), names...)
	sort.SliceStable(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte('|')
		}
		q := regexp.QuoteMeta(n)
		if looseSpace {
			q = strings.ReplaceAll(q, " ", `[ -]?`)
		}
		b.WriteString(q)
	}
	return b.String()
}

// LookupApp returns the app called name (display name or alias, any case,
// with an optional "app"/"应用" suffix), or nil.
func LookupApp(name string) *App {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, suf := range []string{" app", "app", "应用", "软件", "客户端"} {
		if a := appNames[strings.TrimSpace(strings.TrimSuffix(n, suf))]; a != nil && strings.HasSuffix(n, suf) {
			return a
		}
	}
	return appNames[n]
}

// AppByPackage returns the known app with package pkg, or nil.
func AppByPackage(pkg string) *App {
	for i := range Apps {
		if Apps[i].Package == pkg {
			return &Apps[i]
		}
	}
	return nil
}

// setting is a switch or slider of the Settings app.
type setting struct {
	key    string   // "wifi", "bluetooth", "airplane", "dark_mode", "auto_brightness"
	labels []string // what its row may be called on screen
	names  []string // what instructions call it (besides labels)
	page   []string // labels of the page it lives on, when not the first
}

var settings = []setting{
	{"wifi", []string{"WLAN", "Wi-Fi", "WiFi", "无线局域网"}, []string{"无线网络", "无线网", "wifi", "wi fi", "wireless", "wlan"}, networkPage},
	{"bluetooth", []string{"蓝牙", "Bluetooth"}, nil, []string{"已连接的设备", "连接的设备", "Connected devices", "连接偏好设置", "Connection preferences"}},
	{"airplane", []string{"飞行模式", "Airplane mode", "Flight mode"}, []string{"飞行", "airplane", "aeroplane mode", "plane mode"}, networkPage},
	{"dark_mode", []string{"深色模式", "Dark mode", "Dark theme"}, []string{"暗色模式", "夜间模式", "黑暗模式", "暗黑模式", "night mode"}, []string{"显示与亮度", "显示", "Display"}},
	{"auto_brightness", []string{"自动调节亮度", "Adaptive brightness", "Auto brightness"}, []string{"自动亮度", "auto-brightness"}, []string{"显示与亮度", "显示", "Display"}},
}

// networkPage are the labels of the page that holds Wi-Fi and airplane
// mode on stock Android ("Network & internet"); the simulated phone and
// many vendors show them on the first page.
var networkPage = []string{"网络和互联网", "网络与互联网", "Network & internet", "连接", "Connections"}

// brightnessPage are the labels of the page with the brightness slider.
var brightnessPage = []string{"显示与亮度", "显示", "Display", "亮度"}

// settingPattern is a regexp alternation of every setting name.
var settingPattern = alternation(settingNameList(), true)

func settingNameList() []string {
	var names []string
	for _, s := range settings {
		names = append(names, s.labels...)
		names = append(names, s.names...)
	}
	return names
}

// lookupSetting returns the setting an instruction calls name, or nil.
func lookupSetting(name string) *setting {
	q := normalize(name)
	for i := range settings {
		s := &settings[i]
		for _, n := range append(append([]string(nil), s.labels...), s.names...) {
			if normalize(n) == q {
				return s
			}
		}
	}
	return nil
}
