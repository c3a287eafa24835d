package phone

import "image/color"

func init() {
	registerScreen("launcher", launcherPkg, "com.android.launcher3.uioverrides.QuickstepLauncher", buildLauncher)
	registerScreen("recents", launcherPkg, "com.android.quickstep.RecentsActivity", buildRecents)
}

var wallpaper = rgb(0x3a, 0x5f, 0x8f)

// Launcher grid geometry in design pixels.
const (
	gridTop   = 760
	gridCols  = 4
	cellW     = designW / gridCols
	cellH     = 330
	iconSize  = 176
	iconLabel = 38
)

func buildLauncher(b *builder) {
	b.bg = wallpaper
	b.status = color.RGBA{}
	w := b.w
	clock := b.p.clock()
	t := b.centered(b.label(clock.Format("15:04"), 0, 220, designW, 420, 150, white))
	t.Class = "android.widget.TextClock"
	t.ResourceID = "com.android.launcher3:id/clock"
	days := []string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}
	d := b.centered(b.label(clock.Format("1月2日 ")+days[clock.Weekday()], 0, 420, designW, 500, 46, white))
	b.add(t, d)

	ws := b.node("android.view.ViewGroup", 0, gridTop, designW, gridTop+2*cellH)
	ws.ResourceID = "com.android.launcher3:id/workspace"
	for i, a := range launcherApps {
		a := a
		col, row := i%gridCols, i/gridCols
		l, tp := col*cellW, gridTop+row*cellH
		n := b.node("android.widget.TextView", l, tp, l+cellW, tp+cellH)
		n.Text, n.Desc = a.label, a.en
		n.Clickable, n.Focusable, n.LongClickable = true, true, true
		n.st = style{icon: "app", bg: a.color, glyph: firstRune(a.label), fg: white, size: b.F(iconLabel), align: alignCenter, radius: b.F(44)}
		n.tap = func(int, int) { w.launch(a.pkg) }
		n.long = func() { w.toastMsg(a.label + "：长按可编辑主屏幕") }
		ws.add(n)
	}
	b.add(ws)
	sb := b.searchBox("com.android.launcher3:id/search_container_hotseat", "搜索", designPad, 2040, designW-designPad, 2170, rgb(0xf1, 0xf3, 0xf4), func() {
		w.launch("com.android.browser")
	})
	b.add(sb)
}

func buildRecents(b *builder) {
	b.bg = rgb(0x20, 0x24, 0x28)
	w := b.w
	if len(w.recents) == 0 {
		b.add(b.centered(b.label("无最近使用的应用", 0, 1000, designW, 1200, 48, white)))
		return
	}
	lv := b.list("com.android.launcher3:id/overview_panel", statusH+40, navTop-220, len(w.recents), 430, func(i, y int) *Node {
		pkg := w.recents[i]
		a := appByPkg(pkg)
		if a == nil {
			return nil
		}
		card := clickable(b.frame(designPad, y+20, designW-designPad, y+410, white), func() { w.switchTo(pkg) })
		card.st.radius = b.F(36)
		card.Desc = a.label
		av := b.avatar(a.label, a.label, designPad+30, y+50, 100)
		av.st.bg = a.color
		card.add(av)
		card.add(b.label(a.label, designPad+160, y+50, designW-designPad-30, y+150, 48, textMain))
		s := w.tasks[pkg]
		if len(s) > 0 {
			card.add(b.label(screenTitle(s[len(s)-1]), designPad+160, y+170, designW-designPad-30, y+260, 38, textSub))
		}
		return card
	})
	b.add(lv)
	clear := b.button("全部清除", "com.android.launcher3:id/clear_all", 340, navTop-190, 740, navTop-70, rgb(0x3c, 0x40, 0x44), white, 40, func() {
		for _, p := range append([]string(nil), w.recents...) {
			w.forceStop(p)
		}
		w.goHome()
	})
	b.add(clear)
}

// screenTitle names a screen for the recents cards.
func screenTitle(s *screen) string {
	switch {
	case s.kind == "meituan.shop" || s.kind == "meituan.checkout":
		if sh, ok := shopByID(s.arg); ok {
			return sh.Name
		}
	case s.kind == "taobao.product" || s.kind == "taobao.checkout":
		if it, ok := productByID(s.arg); ok {
			return it.Name
		}
	}
	if s.arg != "" {
		return s.arg
	}
	if a := appByPkg(screenKinds[s.kind].pkg); a != nil {
		return a.label
	}
	return s.kind
}
