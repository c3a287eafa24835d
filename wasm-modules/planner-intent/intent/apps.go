package intent

// The sub-goals that walk an app's screens: sending a WeChat message,
// adding an item to a cart, starting navigation.

// maxSendTaps bounds the taps of a send goal: contact, search, field, send.
const maxSendTaps = 8

// chatInput returns the message field of a chat screen, or -1: a text
// field that is neither a search field nor in the title bar.
func (s *screen) chatInput() int {
	for _, i := range s.tree.edits() {
		if !s.looksLikeSearch(i) && !s.inTopBar(i) {
			return i
		}
	}
	return -1
}

// titleIs reports whether the title bar shows name.
func (s *screen) titleIs(name string) bool {
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if s.tree.visible(i) && !n.isEdit() && s.inTopBar(i) && sameText(n.Text, name) {
			return true
		}
	}
	return false
}

// lastMessage returns the text of the lowest text above the input field
// and below the title bar: the newest message of a chat.
func (s *screen) lastMessage(input int) string {
	top, bottom := s.h*12/100, s.tree.Nodes[input].Bounds.Top
	best, text := -1, ""
	for i := range s.tree.Nodes {
		n := &s.tree.Nodes[i]
		if n.Text == "" || n.isEdit() || !s.tree.visible(i) {
			continue
		}
		if _, y := n.Bounds.Center(); y > top && y < bottom && n.Bounds.Bottom > best {
			best, text = n.Bounds.Bottom, n.Text
		}
	}
	return text
}

// contact returns a list entry labelled exactly name, or -1.
func (s *screen) contact(name string) int {
	return s.tree.findExact(name, func(i int) bool {
		return !s.tree.Nodes[i].isEdit() && !s.inTopBar(i)
	})
}

func (s *screen) send(g Goal, st *State) move {
	if st.Taps >= maxSendTaps {
		return failed(s.t("点击次数过多，仍未发出消息", "too many taps without sending the message"))
	}
	if in := s.chatInput(); in >= 0 {
		if !s.titleIs(g.Contact) {
			return s.back(st, s.t("不在与"+g.Contact+"的聊天中", "not in the chat with "+g.Contact))
		}
		if st.Phase == phaseSubmitted {
			if sameText(s.lastMessage(in), g.Text) {
				return done()
			}
			st.Phase = phaseNone // not sent: try again
		}
		n := &s.tree.Nodes[in]
		if sameText(n.Text, g.Text) {
			b := s.findButton("发送", "send")
			if b < 0 {
				return failed(s.t("找不到“发送”按钮", "no send button"))
			}
			st.Phase = phaseSubmitted
			m := s.tap(b, st)
			m.action.Sensitive = true
			m.action.Message = s.t("发送消息给"+g.Contact, "send a message to "+g.Contact)
			m.think = s.t("点击“发送”，把消息发给"+g.Contact, "tap \"send\" to send the message to "+g.Contact)
			return m
		}
		if !n.Focused {
			return s.tap(in, st)
		}
		if st.Types >= maxTypes {
			return failed(s.t("输入消息失败", "typing the message failed"))
		}
		return s.typeText(g.Text, st)
	}
	if b := s.findButton("发消息", "send message"); b >= 0 {
		return s.tap(b, st)
	}
	if c := s.contact(g.Contact); c >= 0 {
		m := s.tap(c, st)
		m.think = s.t("打开与"+g.Contact+"的聊天", "open the chat with "+g.Contact)
		return m
	}
	if f := s.searchField(); f >= 0 && s.tree.Nodes[f].Focused {
		if sameText(s.tree.Nodes[f].Text, g.Contact) {
			return failed(s.t("找不到联系人"+g.Contact, "no contact named "+g.Contact))
		}
		if st.Types >= maxTypes {
			return failed(s.t("输入联系人失败", "typing the contact's name failed"))
		}
		return s.typeText(g.Contact, st)
	}
	if e := s.searchEntry(); e >= 0 {
		m := s.tap(e, st)
		m.think = s.t("搜索联系人"+g.Contact, "search for the contact "+g.Contact)
		return m
	}
	return s.back(st, s.t("找不到联系人"+g.Contact, "cannot find the contact "+g.Contact))
}

func (s *screen) addCart(g Goal, st *State) move {
	if st.Phase == phaseActed {
		return done()
	}
	if b := s.findButton("加入购物车", "add to cart"); b >= 0 {
		st.Phase = phaseActed
		return s.tap(b, st)
	}
	if st.Taps < 2 {
		if i := s.listItem(g.Text, true); i >= 0 {
			m := s.tap(i, st)
			m.think = s.t("打开商品“"+s.label(i)+"”", "open the item \""+s.label(i)+"\"")
			return m
		}
	}
	return failed(s.t("找不到“加入购物车”", "no \"add to cart\" button"))
}

func (s *screen) navigate(g Goal, st *State) move {
	if s.findButton("退出导航", "exit navigation") >= 0 {
		return done()
	}
	if st.Taps >= maxTaps {
		return failed(s.t("无法开始导航", "cannot start navigation"))
	}
	if b := s.findButton("导航", "开始导航", "navigate", "start navigation"); b >= 0 {
		return s.tap(b, st)
	}
	if i := s.listItem(g.Target, true); i >= 0 {
		return s.tap(i, st)
	}
	return failed(s.t("找不到“"+g.Target+"”", "cannot find \""+g.Target+"\""))
}
