package phone

import "strings"

const browserPkg = "com.android.browser"

func init() {
	registerScreen("browser.home", browserPkg, ".BrowserActivity", buildBrowserHome)
	registerScreen("browser.page", browserPkg, ".BrowserActivity$Page", buildBrowserPage)
}

// BrowserState is 浏览器's data: pages opened, oldest first.
type BrowserState struct {
	History []string `json:"history"`
}

func (w *world) browse(q string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	w.browser.History = append(w.browser.History, q)
	w.push("browser.page", q)
}

func buildBrowserHome(b *builder) {
	b.bg, b.status = white, white
	w := b.w
	b.add(b.edit("com.android.browser:id/url", "搜索或输入网址", designPad, statusH+30, designW-designPad, statusH+150, 42, w.browse))
	b.add(b.centered(b.label("浏览器", 0, 700, designW, 860, 100, rgb(0x2b, 0x6c, 0xe0))))
	for i, site := range []string{"百度", "新浪", "知乎", "哔哩哔哩"} {
		site := site
		x := designPad + i*250
		b.add(b.button(site, "com.android.browser:id/shortcut", x, 1000, x+220, 1120, bgGrey, textMain, 40, func() { w.browse(site) }))
	}
}

func buildBrowserPage(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	bar := b.searchBox("com.android.browser:id/url", s.arg, designPad, statusH+30, designW-designPad, statusH+150, bgGrey, w.back)
	bar.Children[1].st.fg = textMain
	b.add(bar)
	title := b.label(s.arg+" - 搜索结果", designPad, statusH+200, designW-designPad, statusH+300, 56, textMain)
	b.add(title)
	for i := 0; i < 4; i++ {
		y := statusH + 340 + i*260
		t := b.label(s.arg+" 相关网页 "+itoa(i+1), designPad, y, designW-designPad, y+80, 46, rgb(0x1a, 0x0d, 0xab))
		d := b.label("这是关于「"+s.arg+"」的网页摘要，由模拟浏览器生成，仅供测试使用。", designPad, y+90, designW-designPad, y+220, 38, textSub)
		d.st.lines = 2
		b.add(t, d)
	}
}
