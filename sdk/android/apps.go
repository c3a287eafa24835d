package android

import "strings"

// knownApps maps packages to display names, for Observation
// current_app_name and for launching by name: the apps Open-AutoGLM
// knows best, and the simulated phone's.
var knownApps = []struct{ pkg, name, en string }{
	{"com.tencent.mm", "微信", "WeChat"},
	{"com.tencent.mobileqq", "QQ", "QQ"},
	{"com.taobao.taobao", "淘宝", "Taobao"},
	{"com.sankuai.meituan", "美团", "Meituan"},
	{"com.autonavi.minimap", "高德地图", "Amap"},
	{"com.android.settings", "设置", "Settings"},
	{"com.android.browser", "浏览器", "Browser"},
	{"com.xingin.xhs", "小红书", "Xiaohongshu"},
	{"tv.danmaku.bili", "bilibili", "Bilibili"},
	{"com.ss.android.ugc.aweme", "抖音", "Douyin"},
	{"com.eg.android.AlipayGphone", "支付宝", "Alipay"},
	{"com.jingdong.app.mall", "京东", "JD"},
	{"com.xunmeng.pinduoduo", "拼多多", "Pinduoduo"},
	{"com.sina.weibo", "微博", "Weibo"},
	{"com.baidu.BaiduMap", "百度地图", "Baidu Maps"},
	{"com.dianping.v1", "大众点评", "Dianping"},
	{"me.ele", "饿了么", "Eleme"},
	{"com.sdu.didi.psnger", "滴滴出行", "DiDi"},
	{"com.netease.cloudmusic", "网易云音乐", "NetEase Cloud Music"},
	{"com.tencent.qqmusic", "QQ音乐", "QQ Music"},
	{"com.ctrip.ct", "携程", "Ctrip"},
	{"com.android.chrome", "Chrome", "Chrome"},
	{"com.google.android.apps.maps", "Google Maps", "Google Maps"},
	{"com.android.contacts", "通讯录", "Contacts"},
	{"com.android.camera", "相机", "Camera"},
	{"com.android.deskclock", "时钟", "Clock"},
	{"com.android.calendar", "日历", "Calendar"},
	{"com.android.mms", "短信", "Messages"},
	{"com.android.dialer", "电话", "Phone"},
	{"com.android.gallery3d", "相册", "Gallery"},
	{"com.android.calculator2", "计算器", "Calculator"},
}

var (
	nameByPkg = map[string]string{}
	pkgByName = map[string]string{}
)

func init() {
	for _, a := range knownApps {
		nameByPkg[a.pkg] = a.name
		pkgByName[strings.ToLower(a.name)] = a.pkg
		pkgByName[strings.ToLower(a.en)] = a.pkg
	}
}

// AppName returns the display name of a known package ("微信" for
// com.tencent.mm), or "" for packages it does not know, launchers
// included.
func AppName(pkg string) string { return nameByPkg[pkg] }

// PackageForApp resolves a display name, Chinese or English and in any
// case ("微信", "wechat"), to a package, or "" when it is not known.
func PackageForApp(name string) string {
	return pkgByName[strings.ToLower(strings.TrimSpace(name))]
}

// ValidPackage reports whether s looks like an Android package name, and
// so is safe to put on a shell command line unquoted.
func ValidPackage(s string) bool {
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
