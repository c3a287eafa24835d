package intent

import (
	"errors"
	"strings"
	"testing"
)

func goalsString(gs []Goal) string {
	var out []string
	for _, g := range gs {
		out = append(out, g.String())
	}
	return strings.Join(out, " ")
}

func TestParse(t *testing.T) {
	const (
		mm = "com.tencent.mm"
		tb = "com.taobao.taobao"
		mt = "com.sankuai.meituan"
		st = "com.android.settings"
		am = "com.autonavi.minimap"
		br = "com.android.browser"
	)
	tests := []struct{ in, want string }{
		// open
		{"打开微信", "open(" + mm + ")"},
		{"启动淘宝", "open(" + tb + ")"},
		{"请帮我打开高德地图", "open(" + am + ")"},
		{"open WeChat", "open(" + mm + ")"},
		{"Launch the Settings app", "open(" + st + ")"},
		{"open amap", "open(" + am + ")"},
		{"打开小红书", "open(com.xingin.xhs)"},
		{"打开某某不存在的应用", "open(?某某不存在的)"},
		// tap
		{"点击“关于手机”", "tap(关于手机)"},
		{"点一下发送按钮", "tap(发送)"},
		{"tap About phone", "tap(About phone)"},
		{"click on the Contacts tab", "tap(Contacts)"},
		// type
		{"在搜索框输入咖啡", "type(搜索框,咖啡)"},
		{"输入“你好”", "type(你好)"},
		{"type hello", "type(hello)"},
		{"type 奶茶 in the search box", "type(search box,奶茶)"},
		// toggle and brightness
		{"打开飞行模式", "toggle(" + st + ",airplane,true)"},
		{"关闭WLAN", "toggle(" + st + ",wifi,false)"},
		{"把蓝牙关掉", "toggle(" + st + ",bluetooth,false)"},
		{"在设置里把蓝牙打开", "toggle(" + st + ",bluetooth,true)"},
		{"turn on bluetooth", "toggle(" + st + ",bluetooth,true)"},
		{"turn the Wi-Fi off", "toggle(" + st + ",wifi,false)"},
		{"disable airplane mode", "toggle(" + st + ",airplane,false)"},
		{"打开深色模式", "toggle(" + st + ",dark_mode,true)"},
		{"打开自动调节亮度", "toggle(" + st + ",auto_brightness,true)"},
		{"把亮度调到最高", "brightness(" + st + ",100)"},
		{"亮度调到最低", "brightness(" + st + ",0)"},
		{"把亮度调到百分之30", "brightness(" + st + ",30)"},
		{"set brightness to 50%", "brightness(" + st + ",50)"},
		{"make the screen brighter", "brightness(" + st + ",-1)"},
		// search
		{"打开美团搜索附近的咖啡", "open(" + mt + ") search(" + mt + ",咖啡)"},
		{"在淘宝搜索耳机", "search(" + tb + ",耳机)"},
		{"用高德地图搜一下深圳北站", "search(" + am + ",深圳北站)"},
		{"search 咖啡 in 美团", "search(" + mt + ",咖啡)"},
		{"search Taobao for headphones", "search(" + tb + ",headphones)"},
		{"look up coffee nearby on Meituan", "search(" + mt + ",coffee)"},
		{"搜索天气", "search(天气)"},
		// send
		{"给张三发消息说明天开会", "send(" + mm + ",张三,明天开会)"},
		{"打开微信给张三发消息说明天开会", "send(" + mm + ",张三,明天开会)"},
		{"给妈妈发微信：我到家了", "send(" + mm + ",妈妈,我到家了)"},
		{"跟李四说周末见", "send(" + mm + ",李四,周末见)"},
		{"给张三发消息说你好，周末有空吗", "send(" + mm + ",张三,你好，周末有空吗)"},
		{"给张三发消息说再见吧", "send(" + mm + ",张三,再见吧)"},
		{"send 李四 a WeChat message saying hi", "send(" + mm + ",李四,hi)"},
		{"send a message to Zhang San saying see you tomorrow", "send(" + mm + ",Zhang San,see you tomorrow)"},
		{`message 王五 on WeChat: "let's play, ok?"`, "send(" + mm + `,王五,let's play, ok?)`},
		{"tell 陈晨 that the package arrived", "send(" + mm + ",陈晨,the package arrived)"},
		// cart
		{"在淘宝搜索耳机并加入购物车", "search(" + tb + ",耳机) add_cart(" + tb + ")"},
		{"把保温杯加入购物车", "search(" + tb + ",保温杯) add_cart(" + tb + ",保温杯)"},
		{"在美团搜索奶茶，加入购物车", "search(" + mt + ",奶茶) add_cart(" + mt + ")"},
		{"search for 耳机 on Taobao and add it to cart", "search(" + tb + ",耳机) add_cart(" + tb + ")"},
		{"add 保温杯 to cart on Taobao", "search(" + tb + ",保温杯) add_cart(" + tb + ",保温杯)"},
		// navigate
		{"用高德地图导航到深圳湾公园", "search(" + am + ",深圳湾公园) navigate(" + am + ",深圳湾公园)"},
		{"navigate to 深圳北站", "search(" + am + ",深圳北站) navigate(" + am + ",深圳北站)"},
		// back, home, enter
		{"返回", "back()"},
		{"go back", "back()"},
		{"回到桌面", "home()"},
		{"go to the home screen", "home()"},
		{"按回车", "enter()"},
		// multi-part
		{"打开设置然后点击关于手机", "open(" + st + ") tap(" + st + ",关于手机)"},
		{"在设置里点击关于手机", "tap(" + st + ",关于手机)"},
		{"打开蓝牙，然后关闭WLAN", "toggle(" + st + ",bluetooth,true) toggle(" + st + ",wifi,false)"},
		{"打开设置，点击显示与亮度，然后返回", "open(" + st + ") tap(" + st + ",显示与亮度) back()"},
		{"打开淘宝，回到桌面，点击微信", "open(" + tb + ") home() tap(微信)"},
		{"open Settings and then tap About phone", "open(" + st + ") tap(" + st + ",About phone)"},
		{"turn on bluetooth and then turn off Wi-Fi", "toggle(" + st + ",bluetooth,true) toggle(" + st + ",wifi,false)"},
		{"open Taobao then go home", "open(" + tb + ") home()"},
		{"open the browser and search for weather", "open(" + br + ") search(" + br + ",weather)"},
		{"在淘宝搜索手机壳，然后回到桌面，再打开美团搜索火锅", "search(" + tb + ",手机壳) home() open(" + mt + ") search(" + mt + ",火锅)"},
		{"打开微信给张三发消息说明天开会，然后回到桌面", "send(" + mm + ",张三,明天开会) home()"},
		{"打开微信，谢谢", "open(" + mm + ")"},
		{"打开淘宝搜索耳机，点第一个商品，加入购物车", "open(" + tb + ") search(" + tb + ",耳机) tap(" + tb + ",第一个商品) add_cart(" + tb + ")"},
		{"打开高德地图，搜索深圳北站，然后导航", "open(" + am + ") search(" + am + ",深圳北站) navigate(" + am + ")"},
		{"在浏览器里输入天气预报并搜索", "type(" + br + ",天气预报) enter()"},
		{"open browser, type hello, press enter", "open(" + br + ") type(" + br + ",hello) enter()"},
		{"打开微信，进入通讯录", "open(" + mm + ") tap(" + mm + ",通讯录)"},
		{"打开微信的通讯录", "open(" + mm + ") tap(" + mm + ",通讯录)"},
		{"查看【关于手机】", "tap(关于手机)"},
		// buying is finding and adding to the cart
		{"在淘宝买耳机", "search(" + tb + ",耳机) add_cart(" + tb + ",耳机)"},
		{"buy a 保温杯 on Taobao", "search(" + tb + ",保温杯) add_cart(" + tb + ",保温杯)"},
		{"带我去世界之窗", "search(" + am + ",世界之窗) navigate(" + am + ",世界之窗)"},
		{"send hi to 李四 on WeChat", "send(" + mm + ",李四,hi)"},
		{"发微信给张三说明天开会", "send(" + mm + ",张三,明天开会)"},
		{"给张三发条微信，说明天开会", "send(" + mm + ",张三,明天开会)"},
		{"微信上跟李四说晚上一起吃饭", "send(" + mm + ",李四,晚上一起吃饭)"},
		{"把WiFi关了", "toggle(" + st + ",wifi,false)"},
		{"turn wifi on", "toggle(" + st + ",wifi,true)"},
		{"max brightness", "brightness(" + st + ",100)"},
		{"帮我在美团上搜一下奶茶", "search(" + mt + ",奶茶)"},
	}
	for _, tt := range tests {
		gs, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := goalsString(gs); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"  \t\n ", ErrEmpty},
		{"，。", ErrEmpty},
		{strings.Repeat("打开微信然后", 200), ErrTooLong},
		{strings.Repeat("返回，", 20), ErrTooMany},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("Parse(%.20q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	var ue *UnknownError
	if _, err := Parse("今天天气怎么样"); !errors.As(err, &ue) || ue.Part != "今天天气怎么样" {
		t.Errorf("unknown instruction: %v", err)
	}
	if _, err := Parse("打开微信，今天天气怎么样"); !errors.As(err, &ue) {
		t.Errorf("unknown part: %v", err)
	}
}

func TestSplitKeepsQuotes(t *testing.T) {
	frags, seps := split(`给张三发消息说“明天开会，然后吃饭”然后返回`)
	if len(frags) != 2 || frags[0] != `给张三发消息说“明天开会，然后吃饭”` || frags[1] != "返回" || seps[0] != "然后" {
		t.Fatalf("split = %q %q", frags, seps)
	}
}

func TestLookupApp(t *testing.T) {
	for name, pkg := range map[string]string{"微信": "com.tencent.mm", "wechat": "com.tencent.mm", "WeChat app": "com.tencent.mm",
		"高德": "com.autonavi.minimap", "Settings": "com.android.settings", "浏览器": "com.android.browser", "淘宝应用": "com.taobao.taobao"} {
		if a := LookupApp(name); a == nil || a.Package != pkg {
			t.Errorf("LookupApp(%q) = %v, want %s", name, a, pkg)
		}
	}
	if a := LookupApp("不存在"); a != nil {
		t.Errorf("LookupApp(unknown) = %v", a)
	}
}

func TestIsChinese(t *testing.T) {
	for s, want := range map[string]bool{"打开微信": true, "“打开”hello": true, "打开浏览器输入hello": true,
		"open 微信": false, "send 李四 a WeChat message": false, "open WeChat": false, "123": false} {
		if IsChinese(s) != want {
			t.Errorf("IsChinese(%q) = %v", s, !want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for in, want := range map[string]int{"第一个商品": 1, "第2个": 2, "第三条": 3, "the first item": 1, "second result": 2,
		"3rd": 3, "the last one": -1} {
		if n, ok := ordinal(in); !ok || n != want {
			t.Errorf("ordinal(%q) = %d, %v; want %d", in, n, ok, want)
		}
	}
	for _, in := range []string{"关于手机", "firstly", "第", ""} {
		if n, ok := ordinal(in); ok {
			t.Errorf("ordinal(%q) = %d", in, n)
		}
	}
}
