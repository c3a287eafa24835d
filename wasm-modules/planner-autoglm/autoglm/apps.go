package autoglm

import "strings"

// apps maps the display names AutoGLM-Phone uses (Chinese and English) to
// Android packages.
var apps = map[string]string{
	"微信": "com.tencent.mm", "wechat": "com.tencent.mm",
	"淘宝": "com.taobao.taobao", "taobao": "com.taobao.taobao",
	"美团": "com.sankuai.meituan", "meituan": "com.sankuai.meituan",
	"设置": "com.android.settings", "settings": "com.android.settings",
	"小红书": "com.xingin.xhs", "xiaohongshu": "com.xingin.xhs", "rednote": "com.xingin.xhs",
	"高德地图": "com.autonavi.minimap", "amap": "com.autonavi.minimap",
	"bilibili": "tv.danmaku.bili", "哔哩哔哩": "tv.danmaku.bili",
	"浏览器": "com.android.browser", "browser": "com.android.browser",
	"抖音": "com.ss.android.ugc.aweme", "douyin": "com.ss.android.ugc.aweme",
	"支付宝": "com.eg.android.AlipayGphone", "alipay": "com.eg.android.AlipayGphone",
	"京东": "com.jingdong.app.mall", "jd": "com.jingdong.app.mall",
	"拼多多": "com.xunmeng.pinduoduo", "pinduoduo": "com.xunmeng.pinduoduo",
	"大众点评": "com.dianping.v1", "饿了么": "me.ele", "qq": "com.tencent.mobileqq",
	"微博": "com.sina.weibo", "weibo": "com.sina.weibo", "知乎": "com.zhihu.android",
	"chrome": "com.android.chrome", "相机": "com.android.camera", "camera": "com.android.camera",
}

// Package returns the package of an app display name.
func Package(app string) (string, bool) {
	p, ok := apps[strings.ToLower(strings.TrimSpace(app))]
	return p, ok
}

// AppName returns the display name the model knows for a package, or the
// package itself ("桌面" for launchers).
func AppName(pkg string) string {
	if pkg == "" || strings.Contains(pkg, "launcher") {
		return "桌面"
	}
	best := ""
	for name, p := range apps {
		// Prefer the Chinese name, deterministically.
		if p == pkg && (best == "" || name[0] >= 0x80 && (best[0] < 0x80 || name < best)) {
			best = name
		}
	}
	if best == "" {
		return pkg
	}
	return best
}
