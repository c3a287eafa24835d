package distill

import (
	"math/rand/v2"
	"strings"
)

// Template is an instruction pattern with {slot} placeholders.
type Template struct {
	ID, Lang, Text string
}

// pools of slot values per language; open-class pools are split by index.
var pools = map[string][2][]string{ // [zh, en]
	"contact": {{"张三", "李四", "王五", "赵六", "陈晨", "妈妈", "爸爸", "老王", "小李", "项目组", "刘洋", "孙悦", "周杰", "吴芳", "郑强", "文件传输助手", "张经理", "老婆", "王老师", "同事群"},
		{"张三", "李四", "Alice", "Bob", "Mom", "Tom", "王五", "Lucy", "David", "陈晨", "Dad", "Jenny", "赵六", "Kevin", "Mike", "Sarah"}},
	"msg": {{"明天开会", "我到家了", "周末一起吃饭", "生日快乐", "晚上见", "我在路上了", "今天加班", "帮我带杯咖啡", "会议改到三点", "收到", "好的没问题", "晚饭不用等我", "记得带伞", "下午三点开会", "收到，马上处理", "我晚点到", "新年快乐", "文件已发送"},
		{"see you tomorrow", "I'm on my way", "running late", "happy birthday", "call me back", "dinner at 7", "the package arrived", "let's play basketball", "I'm home", "meeting moved to 3pm", "good night", "thanks a lot", "I'll be there soon", "test 123", "where are you", "see you at lunch"}},
	"query": {{"咖啡", "耳机", "奶茶", "火锅", "手机壳", "保温杯", "天气预报", "充电宝", "运动鞋", "蓝牙耳机", "披萨", "电影票", "连衣裙", "笔记本电脑", "酸菜鱼", "生日蛋糕", "羽绒服", "机械键盘", "面包", "矿泉水"},
		{"coffee", "headphones", "pizza", "running shoes", "weather", "phone case", "sushi", "咖啡", "耳机", "bubble tea", "laptop", "train tickets", "burgers", "保温杯", "手机壳", "umbrella"}},
	"place": {{"深圳北站", "深圳湾公园", "世界之窗", "天安门", "西湖", "首都机场", "南山科技园", "人民广场", "故宫", "虹桥火车站", "东方明珠", "北京南站"},
		{"深圳北站", "the airport", "Central Park", "深圳湾公园", "the train station", "Shenzhen Bay Park", "West Lake", "世界之窗", "the nearest hospital", "Times Square", "天安门", "the office"}},
	"elem": {{"关于手机", "显示与亮度", "通讯录", "我的", "发现", "第一个商品", "登录", "确定", "取消", "更多", "消息", "订单", "收藏", "个人中心", "全部", "下一步"},
		{"About phone", "Display", "Contacts", "Me", "Discover", "OK", "Cancel", "Login", "the first item", "More", "Orders", "Next", "Favorites", "Profile", "Done", "Sign in"}},
	"text": {{"你好", "hello world", "火锅", "123456", "今天天气怎么样", "北京", "周杰伦", "明天见", "测试一下", "abc", "上海到北京的高铁", "红烧肉做法"},
		{"hello", "hello world", "weather today", "123456", "good morning", "pizza", "test", "cheap flights", "奶茶", "news", "best laptops", "abc"}},
	"field": {{"搜索框", "输入框", "地址栏", "用户名框", "备注栏", "评论框"},
		{"search box", "search bar", "text field", "address bar", "input box", "comment box"}},
	"pct": {{"10", "20", "25", "30", "40", "50", "60", "70", "75", "80", "90", "35"},
		{"10", "20", "25", "30", "40", "50", "60", "70", "75", "80", "90", "35"}},
	// Closed lexicon: used in every split.
	"app": {{"微信", "淘宝", "美团", "高德地图", "设置", "浏览器", "小红书", "哔哩哔哩", "支付宝", "抖音", "QQ", "京东", "拼多多", "百度地图", "高德", "B站", "手机淘宝", "系统设置"},
		{"WeChat", "Taobao", "Meituan", "Amap", "Settings", "Browser", "Xiaohongshu", "bilibili", "Alipay", "Douyin", "TikTok", "QQ", "JD", "Pinduoduo", "Chrome", "Baidu Maps", "Weixin", "Gaode"}},
	"sapp": {{"淘宝", "美团", "高德地图", "浏览器", "微信", "京东", "拼多多", "小红书", "哔哩哔哩", "抖音", "百度地图", "支付宝"},
		{"Taobao", "Meituan", "Amap", "Browser", "WeChat", "JD", "Pinduoduo", "Xiaohongshu", "bilibili", "Douyin", "Baidu Maps", "Chrome"}},
	"shop": {{"淘宝", "美团", "手机淘宝"}, {"Taobao", "Meituan"}},
	"set": {{"WLAN", "蓝牙", "飞行模式", "深色模式", "自动调节亮度", "无线网络", "wifi", "夜间模式", "暗色模式", "自动亮度", "Wi-Fi", "飞行"},
		{"Wi-Fi", "bluetooth", "airplane mode", "dark mode", "adaptive brightness", "wifi", "WLAN", "night mode", "auto brightness", "flight mode", "dark theme", "wireless"}},
}

// closed pools are not split.
var closed = map[string]bool{"app": true, "sapp": true, "shop": true, "set": true}

// Settings is the surface-form lexicon of the settings, for span
// alignment and for the model's goals.
var Settings = [][2]string{
	{"WLAN", "wifi"}, {"Wi-Fi", "wifi"}, {"WiFi", "wifi"}, {"无线局域网", "wifi"}, {"无线网络", "wifi"}, {"无线网", "wifi"}, {"wi fi", "wifi"}, {"wireless", "wifi"},
	{"蓝牙", "bluetooth"}, {"Bluetooth", "bluetooth"},
	{"飞行模式", "airplane"}, {"Airplane mode", "airplane"}, {"Flight mode", "airplane"}, {"飞行", "airplane"}, {"airplane", "airplane"}, {"aeroplane mode", "airplane"}, {"plane mode", "airplane"},
	{"深色模式", "dark_mode"}, {"Dark mode", "dark_mode"}, {"Dark theme", "dark_mode"}, {"暗色模式", "dark_mode"}, {"夜间模式", "dark_mode"}, {"黑暗模式", "dark_mode"}, {"暗黑模式", "dark_mode"}, {"night mode", "dark_mode"},
	{"自动调节亮度", "auto_brightness"}, {"Adaptive brightness", "auto_brightness"}, {"Auto brightness", "auto_brightness"}, {"自动亮度", "auto_brightness"}, {"auto-brightness", "auto_brightness"},
}

// templates per intent: [zh, en].
var templates = map[string][2][]string{
	"open": {{"打开{app}", "启动{app}", "帮我打开{app}", "进入{app}", "请打开{app}应用", "打开一下{app}", "运行{app}", "切换到{app}"},
		{"open {app}", "launch {app}", "please open {app}", "start {app}", "open the {app} app", "can you open {app}", "go to {app}", "bring up {app}"}},
	"tap": {{"点击{elem}", "点一下{elem}", "点击“{elem}”", "选择{elem}", "点{elem}按钮", "轻点{elem}", "按一下{elem}", "点击{elem}选项"},
		{"tap {elem}", "click {elem}", "tap on {elem}", "press the {elem} button", "select {elem}", "click on \"{elem}\"", "choose {elem}", "tap the {elem} tab"}},
	"type": {{"输入{text}", "在{field}输入{text}", "在{field}里输入“{text}”", "键入{text}", "填写{text}", "往{field}里填入{text}", "输入：{text}", "在{field}中写入{text}"},
		{"type {text}", "type {text} in the {field}", "enter {text} into the {field}", "input {text}", "write {text}", "type \"{text}\"", "fill in {text}", "type {text} into the {field}"}},
	"toggle": {{"打开{set}", "关闭{set}", "开启{set}", "关掉{set}", "把{set}打开", "把{set}关闭", "将{set}开启", "关一下{set}", "在设置里把{set}关掉", "帮我开启{set}"},
		{"turn on {set}", "turn off {set}", "switch on {set}", "switch off {set}", "enable {set}", "disable {set}", "turn {set} on", "turn {set} off", "please turn off the {set}", "turn on the {set}"}},
	"brightness": {{"把亮度调到{pct}%", "亮度调到最高", "把屏幕亮度调到最低", "调高屏幕亮度", "调低亮度", "把亮度调到百分之{pct}", "亮度调暗一点", "屏幕亮度调到{pct}%", "把亮度调到最大", "降低屏幕亮度"},
		{"set brightness to {pct}%", "set the brightness to maximum", "set brightness to minimum", "increase the brightness", "lower the screen brightness", "make the screen brightness higher", "turn the brightness up", "set screen brightness to {pct} percent", "turn brightness down", "set the brightness to {pct}%"}},
	"search": {{"在{sapp}搜索{query}", "在{sapp}里搜{query}", "用{sapp}查找{query}", "搜索{query}", "搜一下{query}", "去{sapp}搜{query}", "在{sapp}上查询{query}", "帮我在{sapp}搜索附近的{query}"},
		{"search {query} in {sapp}", "search for {query} on {sapp}", "look up {query} on {sapp}", "find {query} in {sapp}", "search {sapp} for {query}", "search for {query}", "look for {query} in the {sapp} app", "google {query}"}},
	"send": {{"给{contact}发消息说{msg}", "给{contact}发微信说{msg}", "在微信上给{contact}发消息：{msg}", "跟{contact}说{msg}", "告诉{contact}：{msg}", "发消息给{contact}说{msg}", "用微信给{contact}发一条消息，内容是{msg}", "打开微信给{contact}发消息说{msg}"},
		{"send {contact} a WeChat message saying {msg}", "send a message to {contact} saying {msg}", "message {contact} on WeChat saying {msg}", "tell {contact} on WeChat that {msg}", "send {msg} to {contact} on WeChat", "text {contact} saying {msg}", "send a wechat message to {contact}: {msg}", "wechat {contact} saying {msg}"}},
	"add_cart": {{"在{shop}把{query}加入购物车", "把{query}加入购物车", "在{shop}买一个{query}", "买{query}", "把这个加入购物车", "加入购物车", "在{shop}购买{query}", "把{query}加到购物车里"},
		{"add {query} to cart on {shop}", "add {query} to the cart", "buy a {query} on {shop}", "buy {query}", "add it to the cart", "put {query} in my cart", "purchase {query} from {shop}", "add to cart"}},
	"back": {{"返回", "返回上一页", "按返回键", "后退", "回到上一页", "退回"},
		{"go back", "back", "press back", "press the back button", "go to the previous page", "navigate back"}},
	"home": {{"回到桌面", "返回主屏幕", "回到主页", "按home键", "回桌面", "退到桌面"},
		{"go home", "go to the home screen", "return to the home screen", "press the home button", "back to home screen", "exit to home"}},
	"enter": {{"按回车", "按下回车键", "按确认键", "按一下回车"},
		{"press enter", "hit enter", "press the search key", "hit the return key"}},
	"navigate": {{"导航到{place}", "用高德地图导航到{place}", "带我去{place}", "我要去{place}", "高德地图导航去{place}", "帮我导航到{place}", "我想去{place}", "在高德导航至{place}"},
		{"navigate to {place}", "navigate to {place} with Amap", "take me to {place}", "get directions to {place}", "drive to {place}", "guide me to {place} using Amap", "navigate to {place} using Gaode", "directions to {place}"}},
	"none": {{"{text}", "今天天气不错", "你是谁", "谢谢你", "哈哈哈", "我有点累"},
		{"{text}", "what time is it", "thank you so much", "who are you", "lol", "I am tired"}},
}

// joiners of two-part instructions.
// The teacher's separators: 然后, 接着, 并, ，, "and then", "then", "and";
// "" joins an open-app prefix to the next clause ("打开美团搜索咖啡").
var joiners = [2][]string{{"然后", "，", "，然后", "，再", "并", "接着", ""}, {" and then ", ", then ", " then ", ", ", " and "}}

// multiParts are the intents composed into two-part instructions.
var multiParts = []string{"open", "tap", "toggle", "back", "home", "search", "send", "type", "brightness", "navigate", "add_cart", "enter"}

// Example is one generated instruction with where it came from.
type Example struct {
	Text, Lang, Template string
	// Heldout: the template is held out (its values are then too);
	// ValuesHeldout: the slot values are.
	Heldout, ValuesHeldout bool
}

// heldout reports whether index i of a list is in the held-out quarter.
func heldout(i int) bool { return i%4 == 3 }

// Generate returns perTemplate examples for every template and
// multiCount two-part ones for each language, with their split. Examples
// mixing train and held-out parts are dropped. The result depends only on
// seed.
func Generate(seed uint64, perTemplate, multiCount int) []Example {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var out []Example
	intents := sortedKeys(templates)
	for li, lang := range []string{"zh", "en"} {
		for _, in := range intents {
			for ti, t := range templates[in][li] {
				for range perTemplate {
					h := heldout(ti)
					vh := h || rng.IntN(4) == 0
					if text, ok := fill(rng, t, li, vh); ok {
						out = append(out, Example{Text: text, Lang: lang, Template: lang + "/" + in + "/" + itoa(ti), Heldout: h, ValuesHeldout: vh})
					}
				}
			}
		}
		for range multiCount {
			a, b := multiParts[rng.IntN(len(multiParts))], multiParts[rng.IntN(len(multiParts))]
			ta, tb := rng.IntN(len(templates[a][li])), rng.IntN(len(templates[b][li]))
			j := rng.IntN(len(joiners[li]))
			h := heldout(ta)
			if heldout(tb) != h {
				continue
			}
			vh := h || rng.IntN(4) == 0
			x, ok1 := fill(rng, templates[a][li][ta], li, vh)
			y, ok2 := fill(rng, templates[b][li][tb], li, vh)
			if !ok1 || !ok2 {
				continue
			}
			join := joiners[li][j]
			if join == "" && a != "open" {
				join = joiners[li][0] // only an app prefix runs on without a separator
			}
			out = append(out, Example{Text: x + join + y, Lang: lang,
				Template: lang + "/multi/" + a + itoa(ta) + "+" + b + itoa(tb), Heldout: h, ValuesHeldout: vh})
		}
	}
	return out
}

// fill substitutes every placeholder with a value of the held-out (vh)
// or training part of its pool; closed pools draw from all values.
func fill(rng *rand.Rand, t string, li int, vh bool) (string, bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String(), true
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return "", false
		}
		name := t[i+1 : i+j]
		if !vh && !closed[name] && name != "pct" && rng.IntN(100) < RandomValuePct {
			b.WriteString(t[:i])
			b.WriteString(randomValue(rng, li))
			t = t[i+j+1:]
			continue
		}
		pool := pools[name][li]
		var cand []string
		for k, v := range pool {
			if closed[name] || heldout(k) == vh {
				cand = append(cand, v)
			}
		}
		if len(cand) == 0 {
			return "", false
		}
		b.WriteString(t[:i])
		b.WriteString(cand[rng.IntN(len(cand))])
		t = t[i+j+1:]
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// RandomValuePct is the percentage of training slot values replaced by
// random strings, so the tagger learns slots from their context and not
// only from the values it has seen.
const RandomValuePct = 35

// hanChars are common characters for random Chinese values, without the
// ones the teacher's rules treat as triggers (给 说 把 在 并 再 然 后…).
const hanChars = "天气地方人民大小山水火花草木月日年时分钟书本电脑手机灯车票路桥站门口公园广场医院学校超市饭店酒店咖啡茶蛋糕面包米饭鱼肉菜果苹香蕉橙西瓜鞋帽衣服裤包伞杯碗盘红黄蓝绿白黑金银东南北中新老高低长短明亮美好快乐安全开心朋友同学家庭妈爸哥姐弟妹王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊陆郝孔崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"

// enWords are words for random English values.
var enWords = []string{"red", "blue", "green", "apple", "river", "stone", "city", "garden", "market", "light", "music",
	"paper", "window", "happy", "quick", "silver", "golden", "north", "south", "coffee", "table", "chair", "phone", "book",
	"cloud", "rain", "sunny", "road", "bridge", "tower", "lake", "forest", "pizza", "noodle", "soup", "cake", "movie",
	"ticket", "hotel", "park", "school", "office", "doctor", "lucky", "smile", "dream", "star", "moon", "ocean", "island"}

// randomValue is a random slot value: 2–5 Han characters, or 1–3 English
// words (Chinese templates get English values a quarter of the time).
func randomValue(rng *rand.Rand, li int) string {
	if li == 0 && rng.IntN(4) != 0 || li == 1 && rng.IntN(4) == 0 {
		han := []rune(hanChars)
		n := 2 + rng.IntN(4)
		out := make([]rune, n)
		for i := range out {
			out[i] = han[rng.IntN(len(han))]
		}
		return string(out)
	}
	n := 1 + rng.IntN(3)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = enWords[rng.IntN(len(enWords))]
	}
	return strings.Join(ws, " ")
}
