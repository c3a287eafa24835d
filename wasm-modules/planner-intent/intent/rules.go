package intent

import (
	"regexp"
	"strconv"
	"strings"
)

// rule parses a clause into goals, or reports false.
type rule func(p *parseCtx, c string) ([]Goal, bool)

// rules run in order; the first that matches wins (ruleOpenUnknown, the
// catch-all, runs after them all, see parseCtx.clause). Specific intents come
// before general ones: a message may contain any words, "打开蓝牙" is a
// setting and not an app, and the open-app prefix must see "打开微信给张三…"
// before the tap rule sees "点…".
var rules []rule

func init() {
	rules = []rule{
		ruleBackHome,
		ruleSend,
		rulePrefix,
		ruleToggle,
		ruleBrightness,
		ruleNavigate,
		ruleAddCart,
		ruleSearch,
		ruleType,
		ruleOpen,
		ruleTap,
	}
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

const name = `([^\s，,。：:、“”"]{1,16}?)`

var (
	reBack  = re(`(?i)^(?:返回|后退|退回|回退|返回上一页|返回上一级|回到上一页|上一页|按返回键|按一下返回键|点返回|go back|back|press back|navigate back|press the back button|go to the previous page|return)(?:一下)?$`)
	reHome  = re(`(?i)^(?:(?:回到|返回|回|去|退回到|退回|退到)(?:手机)?(?:桌面|主屏幕|主屏|主页|首屏|主界面|主页面)|按?(?:home|主页)键|go (?:to )?(?:the )?home(?: screen)?|go home|return (?:to )?(?:the )?home(?: screen)?|(?:go )?back to (?:the )?home(?: screen)?|press (?:the )?home(?: button| key)?|exit to (?:the )?home(?: screen)?)$`)
	reEnter = re(`(?i)^(?:(?:按|按下|点击)?(?:回车|回车键|确认键|enter键|搜索键)|(?:press|hit|tap) (?:the )?(?:enter|return|search)(?: key| button)?|搜索|搜一下|提交搜索|search|submit)$`)

	msgNoun  = `(?:一条|一个|个|条)?(?:微信消息|微信|消息|信息|短信)?`
	msgIntro = `\s*(?:[，,]\s*)?(?:说|内容是|内容为|告诉他|告诉她|[：:])\s*(.+)$`
	reSend   = []*regexp.Regexp{
		re(`^(?:(?:在|用|通过|打开)?微信(?:上|里|中)?)?(?:给|向)` + name + `(?:发送|发|留言)` + msgNoun + msgIntro),
		re(`^(?:(?:在|用|通过)?微信(?:上|里|中)?)?(?:发送|发)(?:一条|条)?(?:微信消息|微信|消息|信息)(?:给|到)` + name + msgIntro),
		re(`^(?:(?:在|用|通过)?微信(?:上|里|中)?)?(?:跟|和|对|告诉)` + name + `(?:说|讲)\s*[：:]?\s*(.+)$`),
		re(`^(?:(?:在|用|通过)?微信(?:上|里|中)?)?告诉` + name + `[：:，,]\s*(.+)$`),
	}
	enVia    = `(?: on wechat| via wechat| in wechat| with wechat| on weixin)?`
	enIntro  = `,?\s*(?:saying|that says|which says|with the text|with text|to say|:)\s*(.+)$`
	reSendEn = []*regexp.Regexp{
		re(`(?i)^send (?:a |an )?(?:wechat |weixin )?(?:message|msg|text)` + enVia + ` to (.+?)` + enVia + enIntro),
		re(`(?i)^send (.+?) (?:a |an )?(?:wechat |weixin )?(?:message|msg|text)` + enVia + enIntro),
		re(`(?i)^(?:message|text|wechat) (.+?)` + enVia + enIntro),
		re(`(?i)^tell (.+?)` + enVia + ` (?:that |saying )(.+)$`),
	}
	// reSendTextFirst is "send hi to 李四 on WeChat": the text comes first.
	reSendTextFirst = re(`(?i)^send (.+) to (.+?) (?:on|via|in|with) (?:wechat|weixin)$`)

	rePrefix = []*regexp.Regexp{
		re(`(?i)^(?:打开|启动|进入|运行|open|launch|start)\s*(?:the )?(` + appPattern + `)(?:应用|app|\s+app)?[，,\s]*(.+)$`),
		re(`(?i)^(?:在|用|去|到|in|on|using|with|inside)\s*(?:the )?(` + appPattern + `)(?:里面|里|上|中|内|app|\s+app)?[，,\s]*(.+)$`),
	}

	reToggleZh = []*regexp.Regexp{
		re(`(?i)^(?:把|将)?(?:手机的?)?(` + settingPattern + `)(?:功能|开关|模式)?(?:给我)?(打开|开启|启用|开起来|开|关闭|关掉|关上|关|禁用|停用)(?:了|掉|一下)?$`),
		re(`(?i)^(打开|开启|启用|开|关闭|关掉|关上|关|禁用|停用)(?:一下)?(?:手机的?)?(` + settingPattern + `)(?:功能|开关)?$`),
	}
	reToggleEn = []*regexp.Regexp{
		re(`(?i)^(?:turn|switch|toggle|put) (on|off) (?:the )?(` + settingPattern + `)(?: mode)?$`),
		re(`(?i)^(?:turn|switch|put) (?:the )?(` + settingPattern + `)(?: mode)? (on|off)$`),
		re(`(?i)^(enable|disable|activate|deactivate) (?:the )?(` + settingPattern + `)(?: mode)?$`),
	}

	reBright   = re(`(?i)亮度|brightness|屏幕调亮|屏幕调暗|screen (?:brighter|dimmer|darker)`)
	reBrightUp = re(`(?i)调高|调亮|提高|增加|加大|升高|亮一点|亮一些|\bup\b|increase|raise|brighter|higher`)
	reBrightDn = re(`(?i)调低|调暗|降低|减少|减小|暗一点|暗一些|\bdown\b|decrease|lower|\bdim|darker|reduce`)
	reBrightMx = re(`(?i)最高|最大|最亮|调满|拉满|满格|百分之百|\bmax|full|highest|brightest`)
	reBrightMn = re(`(?i)最低|最小|最暗|\bmin|lowest|dimmest`)
	reBrightPc = re(`(?i)(\d{1,3})\s*(?:%|％|percent)|百分之(\d{1,3})`)

	reNavigate = []*regexp.Regexp{
		re(`^(?:用|在|打开)?(?:高德地图|高德)?(?:上|里)?(?:帮我)?导航(?:到|去|至)?\s*(.+)$`),
		re(`(?i)^(?:navigate|drive|get directions|directions|take me|guide me) to (.+?)(?: (?:with|using|in|on|via) (?:amap|gaode(?: maps?)?|autonavi|高德地图|高德))?$`),
		re(`^(?:带我去|我要去|我想去|怎么去)(.+?)(?:怎么走)?$`),
	}
	// reNavigateHere starts navigation to what is on screen.
	reNavigateHere = re(`(?i)^(?:开始导航|导航|导航过去|start navigation|navigate(?: there)?|start navigating)$`)
	// reBuy is "在淘宝买耳机": find it and add it to the cart (paying is
	// left to a person).
	reBuy = re(`(?i)^(?:买|购买|下单|buy|purchase|order)(?:一个|一件|一份|一杯|个|件|份|杯| an?| some)?\s*(.+?)(?:\s+(?:on|in|from) (` + appPattern + `))?$`)

	reCart = []*regexp.Regexp{
		re(`^(?:把|将)?(.*?)(?:加入|加到|添加到|添加进|放进|放入|加进|放到)(?:了)?(?:我的)?购物车(?:里|中)?$`),
		re(`^加购(.*)$`),
		re(`(?i)^(?:add|put) (?:(.+?) )?(?:to|in|into) (?:the |my )?(?:shopping )?(?:cart|basket|bag)(?: (?:on|in) (` + appPattern + `))?$`),
	}
	pronouns = map[string]bool{"it": true, "them": true, "this": true, "that": true, "one": true, "the first one": true,
		"the first item": true, "first item": true, "the item": true, "the product": true, "它": true, "这个": true, "第一个": true,
		"第一个商品": true, "第一个结果": true, "商品": true, "该商品": true}

	reSearch = []*regexp.Regexp{
		re(`(?i)^(?:在|去|到|用|从)?(` + appPattern + `)(?:里面|里|上|中|内|app)?(?:搜索|搜一下|搜一搜|搜|查找|查询|找一下|找)(?:一下)?\s*(.+)$`),
		re(`(?i)^(?:search|look up|look for|find)(?: for)? (.+?) (?:in|on|with|using) (?:the )?(` + appPattern + `)(?: app)?$`),
		re(`(?i)^(?:search|look up) (?:the )?(` + appPattern + `)(?: app)? for (.+)$`),
	}
	reSearchAny = re(`(?i)^(?:搜索|搜一下|搜一搜|搜|查找|查询|查一下|search for|search|look up|look for|google)(?:一下)?[：:]?\s*(.+)$`)

	reTypeField = []*regexp.Regexp{
		re(`^(?:在|往|向|于)(.+?)(?:中|里|里面|内|上)?(?:输入|键入|填入|填写|打字|写入)[：:]?\s*(.+)$`),
	}
	reTypeFieldEn = re(`(?i)^(?:type|enter|input|write|fill in) (.+?) (?:into|in|in to|on) (?:the )?((?:[\w ]*?)(?:box|field|bar|input|area))$`)
	reType        = re(`(?i)^(?:输入|键入|填入|填写|打字|写入|type in|type|enter|input|write|fill in)[：:]?\s*(.+)$`)

	reOpen        = re(`(?i)^(?:打开|启动|开启|进入|运行|开|点开|切换到|去|open up|open|launch|start|run|go to|switch to|bring up)(?:一下)?\s*(?:the )?(` + appPattern + `)(?:应用|app|软件|客户端|\s+app)?$`)
	reAppPart     = re(`^(` + appPattern + `)(?:的|里的|中的|里面的)(.+)$`)
	reOpenUnknown = re(`(?i)^(?:打开|启动|运行|open|launch|start)(?:一下)?\s*(?:the )?([^，,。；;！!？?：:“”"]{1,24}?)(?:应用|软件|客户端|\s+app)?$`)
	reTap         = re(`(?i)^(?:点击|点一下|点按|单击|轻触|轻点|点开|按一下|按下|按|选择|选中|点|进入|查看|tap on|tap|click on|click|press|select|hit|touch|choose|view)(?:一下)?\s*(?:the )?(.+?)(?:按钮|选项|图标|标签|菜单|这一项|\s+button|\s+option|\s+icon|\s+tab|\s+item|\s+entry|\s+menu)?$`)
)

func ruleBackHome(p *parseCtx, c string) ([]Goal, bool) {
	switch {
	case reHome.MatchString(c):
		p.app, p.appName = "", "" // what follows happens outside the app
		return []Goal{{Kind: KindHome}}, true
	case reBack.MatchString(c):
		return []Goal{{Kind: KindBack}}, true
	case reEnter.MatchString(c):
		return []Goal{{Kind: KindEnter}}, true
	}
	return nil, false
}

func ruleSend(p *parseCtx, c string) ([]Goal, bool) {
	if m := reSendTextFirst.FindStringSubmatch(c); m != nil {
		if text, who := unquote(m[1]), unquote(m[2]); text != "" && who != "" {
			p.app, p.appName = pkgWeChat, "微信"
			return []Goal{{Kind: KindSend, App: pkgWeChat, AppName: "微信", Contact: who, Text: text}}, true
		}
	}
	for _, r := range append(reSend, reSendEn...) {
		m := r.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		who, text := unquote(m[1]), unquote(m[2])
		if who == "" || text == "" {
			continue
		}
		p.app, p.appName = pkgWeChat, "微信"
		return []Goal{{Kind: KindSend, App: pkgWeChat, AppName: "微信", Contact: who, Text: text}}, true
	}
	return nil, false
}

// maxPrefixDepth bounds nested app prefixes ("打开微信打开微信…"), so
// parsing work stays linear in the instruction.
const maxPrefixDepth = 3

// rulePrefix handles "打开微信给张三…", "在淘宝里把耳机加入购物车" and "on
// Taobao, search …": an app, then a clause that happens in it.
func rulePrefix(p *parseCtx, c string) ([]Goal, bool) {
	if p.depth >= maxPrefixDepth {
		return nil, false
	}
	p.depth++
	defer func() { p.depth-- }()
	for i, r := range rePrefix {
		m := r.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		saved := *p
		a := p.setApp(m[1])
		rest, ok := p.clause(m[2])
		if !ok || a == nil {
			*p = saved
			continue
		}
		var gs []Goal
		if i == 0 {
			gs = append(gs, Goal{Kind: KindOpen, App: a.Package, AppName: a.Name})
		}
		for _, g := range rest {
			if g.App == "" && (g.Kind == KindTap || g.Kind == KindType) {
				g.App, g.AppName = a.Package, a.Name
			}
			gs = append(gs, g)
		}
		return gs, true
	}
	return nil, false
}

func ruleToggle(_ *parseCtx, c string) ([]Goal, bool) {
	verbOn := func(v string) bool {
		v = strings.ToLower(v)
		return !strings.HasPrefix(v, "关") && v != "off" && v != "disable" && v != "deactivate" && v != "禁用" && v != "停用"
	}
	mk := func(set, verb string) ([]Goal, bool) {
		s := lookupSetting(set)
		if s == nil {
			return nil, false
		}
		return []Goal{{Kind: KindToggle, App: pkgSettings, AppName: "设置", Target: s.key, On: verbOn(verb)}}, true
	}
	for i, r := range reToggleZh {
		if m := r.FindStringSubmatch(c); m != nil {
			if i == 1 {
				return mk(m[2], m[1])
			}
			return mk(m[1], m[2])
		}
	}
	for i, r := range reToggleEn {
		if m := r.FindStringSubmatch(c); m != nil {
			if i == 1 {
				return mk(m[1], m[2])
			}
			return mk(m[2], m[1])
		}
	}
	return nil, false
}

func ruleBrightness(_ *parseCtx, c string) ([]Goal, bool) {
	if !reBright.MatchString(c) {
		return nil, false
	}
	g := Goal{Kind: KindBrightness, App: pkgSettings, AppName: "设置"}
	switch m := reBrightPc.FindStringSubmatch(c); {
	case m != nil:
		v := m[1]
		if v == "" {
			v = m[2]
		}
		n, err := strconv.Atoi(v)
		if err != nil || n > 100 {
			return nil, false
		}
		g.Level = n
	case reBrightMx.MatchString(c):
		g.Level = 100
	case reBrightMn.MatchString(c):
		g.Level = 0
	case reBrightUp.MatchString(c):
		g.Level = LevelUp
	case reBrightDn.MatchString(c):
		g.Level = LevelDown
	default:
		return nil, false
	}
	return []Goal{g}, true
}

func ruleNavigate(p *parseCtx, c string) ([]Goal, bool) {
	if reNavigateHere.MatchString(c) {
		p.app, p.appName = pkgAmap, "高德地图"
		return []Goal{{Kind: KindNavigate, App: pkgAmap, AppName: "高德地图"}}, true
	}
	for _, r := range reNavigate {
		if m := r.FindStringSubmatch(c); m != nil {
			dest := unquote(m[1])
			if dest == "" {
				return nil, false
			}
			p.app, p.appName = pkgAmap, "高德地图"
			return []Goal{
				{Kind: KindSearch, App: pkgAmap, AppName: "高德地图", Text: dest},
				{Kind: KindNavigate, App: pkgAmap, AppName: "高德地图", Target: dest},
			}, true
		}
	}
	return nil, false
}

func ruleAddCart(p *parseCtx, c string) ([]Goal, bool) {
	if m := reBuy.FindStringSubmatch(c); m != nil && unquote(m[1]) != "" {
		c = "把" + unquote(m[1]) + "加入购物车"
		if m[2] != "" {
			p.setApp(m[2])
		}
	}
	for _, r := range reCart {
		m := r.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		if len(m) > 2 && m[2] != "" {
			p.setApp(m[2])
		}
		item := unquote(m[1])
		if pronouns[strings.ToLower(item)] {
			item = ""
		}
		app, appName := p.app, p.appName
		if app != pkgMeituan && app != pkgTaobao {
			app, appName = pkgTaobao, "淘宝"
		}
		var gs []Goal
		if item != "" {
			gs = append(gs, Goal{Kind: KindSearch, App: app, AppName: appName, Text: item})
		}
		return append(gs, Goal{Kind: KindAddCart, App: app, AppName: appName, Text: item}), true
	}
	return nil, false
}

// searchQuery cleans a search query: quotes, "附近的", "nearby".
func searchQuery(q string) string {
	q = unquote(q)
	for _, pre := range []string{"附近的", "附近", "一下"} {
		q = strings.TrimPrefix(q, pre)
	}
	for _, suf := range []string{" nearby", " near me", " around here"} {
		if strings.HasSuffix(strings.ToLower(q), suf) {
			q = q[:len(q)-len(suf)]
		}
	}
	return unquote(q)
}

func ruleSearch(p *parseCtx, c string) ([]Goal, bool) {
	for i, r := range reSearch {
		m := r.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		app, q := m[1], m[2]
		if i == 1 {
			app, q = m[2], m[1]
		}
		a := p.setApp(app)
		q = searchQuery(q)
		if a == nil || q == "" {
			return nil, false
		}
		return []Goal{{Kind: KindSearch, App: a.Package, AppName: a.Name, Text: q}}, true
	}
	if m := reSearchAny.FindStringSubmatch(c); m != nil {
		if q := searchQuery(m[1]); q != "" {
			return []Goal{{Kind: KindSearch, App: p.app, AppName: p.appName, Text: q}}, true
		}
	}
	return nil, false
}

func ruleType(p *parseCtx, c string) ([]Goal, bool) {
	g := Goal{Kind: KindType, App: p.app, AppName: p.appName}
	for _, r := range reTypeField {
		if m := r.FindStringSubmatch(c); m != nil {
			if f, t := unquote(m[1]), unquote(m[2]); f != "" && t != "" {
				g.Target, g.Text = f, t
				return []Goal{g}, true
			}
		}
	}
	if m := reTypeFieldEn.FindStringSubmatch(c); m != nil {
		if t, f := unquote(m[1]), strings.TrimSpace(m[2]); t != "" && f != "" {
			g.Target, g.Text = f, t
			return []Goal{g}, true
		}
	}
	if m := reType.FindStringSubmatch(c); m != nil {
		if t := unquote(m[1]); t != "" {
			g.Text = t
			return []Goal{g}, true
		}
	}
	return nil, false
}

func ruleOpen(p *parseCtx, c string) ([]Goal, bool) {
	m := reOpen.FindStringSubmatch(c)
	if m == nil {
		return nil, false
	}
	a := p.setApp(m[1])
	if a == nil {
		return nil, false
	}
	return []Goal{{Kind: KindOpen, App: a.Package, AppName: a.Name}}, true
}

// ruleTap taps in the app the instruction is about, if any: "打开设置，点击
// 关于手机" taps in Settings even when Settings opens on another page.
func ruleTap(p *parseCtx, c string) ([]Goal, bool) {
	m := reTap.FindStringSubmatch(c)
	if m == nil {
		return nil, false
	}
	t := unquote(m[1])
	if t == "" {
		return nil, false
	}
	return []Goal{{Kind: KindTap, App: p.app, AppName: p.appName, Target: t}}, true
}

func ruleOpenUnknown(p *parseCtx, c string) ([]Goal, bool) {
	m := reOpenUnknown.FindStringSubmatch(c)
	if m == nil {
		return nil, false
	}
	n := unquote(m[1])
	if n == "" {
		return nil, false
	}
	if m := reAppPart.FindStringSubmatch(n); m != nil {
		// 打开微信的通讯录: open the app, then the part of it.
		a := p.setApp(m[1])
		return []Goal{{Kind: KindOpen, App: a.Package, AppName: a.Name},
			{Kind: KindTap, App: a.Package, AppName: a.Name, Target: unquote(m[2])}}, true
	}
	if a := p.setApp(n); a != nil {
		return []Goal{{Kind: KindOpen, App: a.Package, AppName: a.Name}}, true
	}
	return []Goal{{Kind: KindOpen, AppName: n}}, true
}
