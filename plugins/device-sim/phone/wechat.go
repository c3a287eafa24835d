package phone

import (
	"image/color"
	"sort"
	"strconv"
	"strings"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

const wechatPkg = "com.tencent.mm"

func init() {
	registerScreen("wechat.home", wechatPkg, ".ui.LauncherUI", buildWeChatHome)
	registerScreen("wechat.chat", wechatPkg, ".ui.chatting.ChattingUI", buildWeChatChat)
	registerScreen("wechat.profile", wechatPkg, ".plugin.profile.ui.ContactInfoUI", buildWeChatProfile)
	registerScreen("wechat.search", wechatPkg, ".plugin.fts.ui.FTSMainUI", buildWeChatSearch).autofocus = "com.tencent.mm:id/search_input"
}

// WeChatState is 微信's data: chats, most recent first, and contacts.
type WeChatState struct {
	Chats    []Chat   `json:"chats"`
	Contacts []string `json:"contacts"`
	// Searches are the queries submitted in WeChat search, oldest first.
	Searches []string `json:"searches,omitempty"`
}

// Chat is one conversation.
type Chat struct {
	Name     string    `json:"name"`
	Messages []Message `json:"messages"`
	Unread   int       `json:"unread,omitempty"`
}

// Message is one chat message. From is "我" for messages this phone sent.
type Message struct {
	From string `json:"from"`
	Text string `json:"text"`
	Time string `json:"time"`
}

// Me is the sender name of this phone's own messages.
const Me = "我"

func newWeChatState() WeChatState {
	return WeChatState{
		Chats: []Chat{
			{Name: "文件传输助手", Messages: []Message{{From: Me, Text: "[文件] 项目计划.pdf", Time: "09:12"}}},
			{Name: "张三", Unread: 1, Messages: []Message{
				{From: "张三", Text: "你好，周末有空吗？", Time: "昨天"},
				{From: Me, Text: "有的，怎么了？", Time: "昨天"},
				{From: "张三", Text: "明天下午三点开会，别忘了", Time: "08:55"},
			}},
			{Name: "李四", Messages: []Message{{From: Me, Text: "文档发你了", Time: "昨天"}, {From: "李四", Text: "好的，收到", Time: "昨天"}}},
			{Name: "项目组", Unread: 3, Messages: []Message{{From: "王五", Text: "今晚上线，大家注意", Time: "周二"}}},
			{Name: "妈妈", Messages: []Message{{From: "妈妈", Text: "记得按时吃饭", Time: "周一"}}},
			{Name: "王五", Messages: []Message{{From: "王五", Text: "周末一起打球？", Time: "周一"}}},
			{Name: "微信支付", Messages: []Message{{From: "微信支付", Text: "微信支付凭证", Time: "1月10日"}}},
			{Name: "订阅号消息", Messages: []Message{{From: "订阅号消息", Text: "科技日报：AI 手机助手新进展", Time: "1月9日"}}},
		},
		Contacts: []string{"张三", "李四", "王五", "赵六", "妈妈", "陈晨", "文件传输助手"},
	}
}

func (ws *WeChatState) chat(name string) *Chat {
	for i := range ws.Chats {
		if ws.Chats[i].Name == name {
			return &ws.Chats[i]
		}
	}
	return nil
}

// send appends a message from this phone to the chat with name and moves
// the chat to the top of the list.
func (ws *WeChatState) send(name, text, at string) {
	c := ws.chat(name)
	if c == nil {
		ws.Chats = append(ws.Chats, Chat{Name: name})
		c = &ws.Chats[len(ws.Chats)-1]
	}
	c.Messages = append(c.Messages, Message{From: Me, Text: text, Time: at})
	moved := *c
	rest := make([]Chat, 0, len(ws.Chats))
	for _, x := range ws.Chats {
		if x.Name != name {
			rest = append(rest, x)
		}
	}
	ws.Chats = append([]Chat{moved}, rest...)
}

var wechatGreen = rgb(0x07, 0xc1, 0x60)

func (b *builder) wechatTop(title string, back bool) *Node {
	bar := b.appBar(title, back, wechatBar, textMain)
	bar.Children[len(bar.Children)-1].st.align = alignCenter
	bar.Children[len(bar.Children)-1].Bounds = b.R(150, statusH, designW-150, statusH+appBarH)
	return bar
}

func buildWeChatHome(b *builder) {
	b.bg, b.status = white, wechatBar
	w, s := b.w, b.s
	titles := []string{"微信", "通讯录", "发现", "我"}
	bar := b.wechatTop(titles[s.tab], false)
	bar.add(b.icon("search", "搜索", "com.tencent.mm:id/search", designW-260, statusH, designW-140, statusH+appBarH, textMain, func() {
		w.push("wechat.search", "")
	}))
	bar.add(b.icon("plus", "更多功能按钮", "com.tencent.mm:id/more", designW-140, statusH, designW-20, statusH+appBarH, textMain, func() {}))
	b.add(bar)
	top, bottom := statusH+appBarH, navTop-150
	switch s.tab {
	case 0:
		b.add(b.list("com.tencent.mm:id/chat_list", top, bottom, len(w.wechat.Chats), 200, func(i, y int) *Node {
			c := w.wechat.Chats[i]
			row := clickable(b.linear(0, y, designW, y+200, color.RGBA{}), func() { b.w.openChat(c.Name) })
			row.ResourceID = "com.tencent.mm:id/conversation_item"
			row.LongClickable = true
			row.long = func() { w.toastMsg("标为未读 · 置顶该聊天 · 删除该聊天") }
			row.add(b.avatar(c.Name, c.Name+"头像", designPad-8, y+30, 140))
			name := b.label(c.Name, 220, y+36, designW-260, y+106, 48, textMain)
			name.ResourceID = "com.tencent.mm:id/nickname"
			last := ""
			at := ""
			if n := len(c.Messages); n > 0 {
				last, at = c.Messages[n-1].Text, c.Messages[n-1].Time
				if strings.HasPrefix(c.Name, "项目组") && c.Messages[n-1].From != Me {
					last = c.Messages[n-1].From + ": " + last
				}
			}
			prev := b.label(last, 220, y+110, designW-designPad, y+170, 38, textSub)
			prev.ResourceID = "com.tencent.mm:id/last_msg"
			tm := b.label(at, designW-300, y+40, designW-designPad, y+100, 32, rgb(0xb2, 0xb2, 0xb2))
			tm.st.align = alignRight
			row.add(name, prev, tm)
			if c.Unread > 0 {
				bd := b.node("android.widget.TextView", 150, y+18, 200, y+68)
				bd.Text = itoa(c.Unread)
				bd.st = style{bg: rgb(0xfa, 0x51, 0x51), radius: b.F(25), fg: white, size: b.F(30), align: alignCenter}
				row.add(bd)
			}
			b.rule(row, 220, y+198, designW)
			return row
		}))
	case 1:
		names := append([]string(nil), w.wechat.Contacts...)
		sort.Strings(names)
		head := []string{"新的朋友", "群聊", "标签", "公众号"}
		all := append(head, names...)
		b.add(b.list("com.tencent.mm:id/contact_list", top, bottom, len(all), 160, func(i, y int) *Node {
			name := all[i]
			var tap func()
			if i >= len(head) {
				tap = func() { w.push("wechat.profile", name) }
			} else {
				tap = func() {}
			}
			row := clickable(b.linear(0, y, designW, y+160, color.RGBA{}), tap)
			av := b.avatar(name, "", designPad-8, y+25, 110)
			if i < len(head) {
				av.st.bg = rgb(0xfa, 0x9d, 0x3b)
			}
			row.add(av)
			t := b.label(name, 200, y, designW, y+160, 46, textMain)
			t.ResourceID = "com.tencent.mm:id/contact_name"
			row.add(t)
			b.rule(row, 200, y+158, designW)
			return row
		}))
	case 2:
		items := []string{"朋友圈", "视频号", "扫一扫", "听一听", "看一看", "搜一搜", "小程序"}
		b.add(b.list("com.tencent.mm:id/discover_list", top, bottom, len(items), 170, func(i, y int) *Node {
			it := items[i]
			row := clickable(b.linear(0, y, designW, y+170, white), func() { w.toastMsg(it + " 暂不可用") })
			row.add(b.badgeIcon(firstRune(it), avatarColors[i%len(avatarColors)], designPad, y+40, 90))
			row.add(b.label(it, 180, y, designW-200, y+170, 46, textMain))
			row.add(b.chevron(y, 170))
			b.rule(row, 180, y+168, designW)
			return row
		}))
	case 3:
		card := b.linear(0, top, designW, top+360, white)
		card.add(b.avatar("我", "我的头像", designPad, top+80, 180))
		card.add(b.label("云手机用户", 280, top+90, designW, top+170, 56, textMain))
		card.add(b.label("微信号：wxid_cloudphone", 280, top+190, designW, top+250, 38, textSub))
		b.add(card)
		for i, it := range []string{"服务", "收藏", "朋友圈", "卡包", "表情", "设置"} {
			y := top + 400 + i*160
			it := it
			row := clickable(b.linear(0, y, designW, y+160, white), func() { w.toastMsg(it + " 暂不可用") })
			row.add(b.label(it, 180, y, designW-200, y+160, 46, textMain))
			row.add(b.badgeIcon(firstRune(it), avatarColors[(i+3)%len(avatarColors)], designPad, y+35, 90))
			row.add(b.chevron(y, 160))
			b.add(row)
		}
		b.bg = bgGrey
	}
	b.add(b.tabBar("com.tencent.mm:id/bottom_tabs", titles, []string{"chat", "contacts", "discover", "me"}, wechatGreen))
}

func (w *world) openChat(name string) {
	if c := w.wechat.chat(name); c != nil {
		c.Unread = 0
	}
	w.push("wechat.chat", name)
}

func buildWeChatChat(b *builder) {
	b.bg, b.status = rgb(0xed, 0xed, 0xed), wechatBar
	w, s := b.w, b.s
	bar := b.wechatTop(s.arg, true)
	bar.add(b.icon("more", "聊天信息", "com.tencent.mm:id/chat_info", designW-140, statusH, designW-20, statusH+appBarH, textMain, func() {}))
	b.add(bar)
	inputH := 150
	barTop := b.bottom - inputH
	var msgs []Message
	if c := w.wechat.chat(s.arg); c != nil {
		msgs = c.Messages
	}
	// Lay messages out bottom-up so the newest sits above the input bar.
	list := b.node("android.widget.ListView", 0, statusH+appBarH, designW, barTop)
	list.ResourceID = "com.tencent.mm:id/chat_msg_list"
	y := barTop - 30
	fs := b.F(44)
	for i := len(msgs) - 1; i >= 0 && y > statusH+appBarH; i-- {
		m := msgs[i]
		lines := wrap(m.Text, fs, b.x(640), 30)
		h := len(lines)*58 + 50
		h = max(h, 120)
		top := y - h
		mine := m.From == Me
		item := b.node("android.widget.RelativeLayout", 0, top, designW, y)
		bub := b.node("android.widget.TextView", 0, top+5, 0, y-5)
		bub.Text = m.Text
		bub.ResourceID = "com.tencent.mm:id/chatting_content"
		bub.LongClickable = true
		bub.long = func() { w.toastMsg("复制 · 转发 · 收藏 · 删除") }
		tw := 0
		for _, l := range lines {
			tw = max(tw, widthDesign(b, l, fs))
		}
		bw := tw + 70
		if mine {
			bub.Bounds = b.R(designW-180-bw, top+5, designW-180, y-5)
			bub.st.bg = rgb(0x95, 0xec, 0x69)
			item.add(b.avatar(Me, "我的头像", designW-160, top+5, 110))
		} else {
			bub.Bounds = b.R(180, top+5, 180+bw, y-5)
			bub.st.bg = white
			item.add(b.avatar(s.arg, s.arg+"头像", designPad-8, top+5, 110))
		}
		bub.st.fg, bub.st.size, bub.st.radius, bub.st.pad, bub.st.lines = textMain, fs, b.F(16), b.x(35), 20
		item.add(bub)
		if clipTree(item, list.Bounds) {
			list.Children = append([]*Node{item}, list.Children...)
		}
		y = top - 20
	}
	b.add(list)
	ib := b.linear(0, barTop, designW, b.bottom, rgb(0xf7, 0xf7, 0xf7))
	ib.add(b.icon("mic", "切换到按住说话", "com.tencent.mm:id/voice", 10, barTop, 120, b.bottom, textMain, func() {}))
	in := b.edit("com.tencent.mm:id/input", "", 130, barTop+22, designW-260, b.bottom-22, 44, nil)
	ib.add(in)
	if text := s.field("com.tencent.mm:id/input"); text != "" {
		send := b.button("发送", "com.tencent.mm:id/send", designW-240, barTop+25, designW-designPad+10, b.bottom-25, wechatGreen, white, 40, func() {
			w.wechat.send(s.arg, text, b.p.clock().Format("15:04"))
			s.setField("com.tencent.mm:id/input", "")
		})
		send.st.radius = b.F(12)
		ib.add(send)
	} else {
		ib.add(b.icon("plus", "更多功能按钮，已折叠", "com.tencent.mm:id/more_panel", designW-130, barTop, designW-20, b.bottom, textMain, func() {}))
	}
	b.add(ib)
}

// widthDesign measures text in screen pixels and converts to design pixels.
func widthDesign(b *builder, s string, size int) int {
	return render.Measure(s, size) * designW / max(b.W, 1)
}

func itoa(n int) string { return strconv.Itoa(n) }

func buildWeChatProfile(b *builder) {
	b.bg, b.status = bgGrey, white
	w, s := b.w, b.s
	b.add(b.appBar("", true, white, textMain))
	top := statusH + appBarH
	card := b.linear(0, top, designW, top+320, white)
	card.add(b.avatar(s.arg, s.arg+"头像", designPad, top+40, 200))
	card.add(b.label(s.arg, 300, top+50, designW, top+130, 58, textMain))
	card.add(b.label("微信号：wxid_"+hash7(s.arg), 300, top+150, designW, top+210, 36, textSub))
	card.add(b.label("地区：广东 深圳", 300, top+215, designW, top+275, 36, textSub))
	b.add(card)
	b.add(b.button("发消息", "com.tencent.mm:id/send_msg", 0, top+360, designW, top+520, white, rgb(0x57, 0x6b, 0x95), 46, func() {
		w.openChat(s.arg)
	}))
	b.add(b.button("音视频通话", "com.tencent.mm:id/voip", 0, top+530, designW, top+690, white, rgb(0x57, 0x6b, 0x95), 46, func() {
		w.toastMsg("对方暂时无法接听")
	}))
}

func buildWeChatSearch(b *builder) {
	b.bg, b.status = white, wechatBar
	w, s := b.w, b.s
	const id = "com.tencent.mm:id/search_input"
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, wechatBar)
	bar.add(b.icon("back", "返回", "", 0, top, 120, top+appBarH, textMain, w.back))
	bar.add(b.edit(id, "搜索", 120, top+30, designW-designPad, top+appBarH-30, 44, func(q string) {
		if q != "" {
			w.wechat.Searches = append(w.wechat.Searches, q)
		}
	}))
	b.add(bar)
	q := strings.TrimSpace(s.field(id))
	if q == "" {
		b.add(b.centered(b.label("搜索指定内容：朋友圈 · 文章 · 公众号 · 小程序", 0, top+appBarH+80, designW, top+appBarH+160, 38, textSub)))
		return
	}
	seen := map[string]bool{}
	var hits []string
	for _, n := range append(chatNames(w.wechat.Chats), w.wechat.Contacts...) {
		if strings.Contains(strings.ToLower(n), strings.ToLower(q)) && !seen[n] {
			seen[n] = true
			hits = append(hits, n)
		}
	}
	if len(hits) == 0 {
		b.add(b.centered(b.label("无结果", 0, top+appBarH+80, designW, top+appBarH+160, 40, textSub)))
		return
	}
	b.add(b.label("联系人", designPad, top+appBarH+10, designW, top+appBarH+80, 34, textSub))
	b.add(b.list("com.tencent.mm:id/search_result", top+appBarH+80, b.bottom, len(hits), 160, func(i, y int) *Node {
		n := hits[i]
		row := clickable(b.linear(0, y, designW, y+160, color.RGBA{}), func() { w.openChat(n) })
		row.add(b.avatar(n, "", designPad, y+25, 110))
		row.add(b.label(n, 200, y, designW, y+160, 46, textMain))
		return row
	}))
}

func chatNames(cs []Chat) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
