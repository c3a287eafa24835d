package phone

import (
	"fmt"
	"image/color"
	"strings"
)

const amapPkg = "com.autonavi.minimap"

// 高德地图 runs every page inside one activity, as the real app does.
const amapActivity = "com.autonavi.map.activity.NewMapActivity"

func init() {
	registerScreen("amap.home", amapPkg, amapActivity, buildAmapHome)
	registerScreen("amap.search", amapPkg, amapActivity+"$Search", buildAmapSearch).autofocus = "com.autonavi.minimap:id/search_input"
	registerScreen("amap.results", amapPkg, amapActivity+"$Results", buildAmapResults)
	registerScreen("amap.place", amapPkg, amapActivity+"$Poi", buildAmapPlace)
	registerScreen("amap.route", amapPkg, amapActivity+"$Route", buildAmapRoute)
	registerScreen("amap.nav", amapPkg, amapActivity+"$Navi", buildAmapNav)
}

// AmapState is 高德地图's data.
type AmapState struct {
	Searches   []string `json:"searches"`
	Selected   string   `json:"selected,omitempty"`   // place last opened
	RouteTo    string   `json:"route_to,omitempty"`   // destination of the last route
	RouteMode  string   `json:"route_mode,omitempty"` // 驾车, 公交, 步行 or 骑行
	Navigating bool     `json:"navigating"`
}

var amapBlue = rgb(0x1e, 0x7c, 0xf2)

func (w *world) amapSearch(q string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	w.amap.Searches = append(w.amap.Searches, q)
	w.push("amap.results", q)
}

// mapView is the drawn map: not an element Apps expose, but a big View.
func (b *builder) mapView(t, bt int) *Node {
	m := b.node("android.view.View", 0, t, designW, bt)
	m.ResourceID = "com.autonavi.minimap:id/map_view"
	m.Desc = "地图"
	m.st.icon = "map"
	return m
}

func buildAmapHome(b *builder) {
	b.bg, b.status = rgb(0xf0, 0xed, 0xe5), color.RGBA{}
	w := b.w
	b.add(b.mapView(0, navTop))
	b.add(b.searchBox("com.autonavi.minimap:id/search_box", "查找地点、公交、地铁", designPad, statusH+30, designW-designPad, statusH+170, white, func() {
		w.push("amap.search", "")
	}))
	card := b.linear(0, navTop-420, designW, navTop, white)
	card.st.radius = b.F(40)
	card.add(b.label("深圳市南山区科技园", designPad, navTop-390, designW, navTop-310, 46, textMain))
	for i, q := range []string{"美食", "酒店", "加油站", "地铁站"} {
		q := q
		x := designPad + i*250
		bt := b.button(q, "com.autonavi.minimap:id/nearby", x, navTop-280, x+220, navTop-180, bgGrey, textMain, 38, func() { w.amapSearch(q) })
		card.add(bt)
	}
	card.add(b.button("路线", "com.autonavi.minimap:id/route", designPad, navTop-150, designW-designPad, navTop-40, amapBlue, white, 44, func() {
		w.push("amap.search", "")
	}))
	b.add(card)
}

func buildAmapSearch(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	const id = "com.autonavi.minimap:id/search_input"
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	box := b.edit(id, "查找地点、公交、地铁", 110, top+30, designW-220, top+appBarH-30, 42, w.amapSearch)
	box.st.bg = bgGrey
	bar.add(box)
	bar.add(b.button("搜索", "com.autonavi.minimap:id/search_btn", designW-210, top+30, designW-designPad/2, top+appBarH-30, amapBlue, white, 40, func() {
		w.amapSearch(s.field(id))
	}))
	b.add(bar)
	hist := w.amap.Searches
	y := top + appBarH + 20
	for i := len(hist) - 1; i >= 0 && i >= len(hist)-6; i-- {
		q := hist[i]
		row := clickable(b.linear(0, y, designW, y+140, white), func() { w.amapSearch(q) })
		row.add(b.icon("clock", "", "", designPad, y+35, designPad+70, y+105, textSub, nil))
		row.add(b.label(q, 160, y, designW, y+140, 44, textMain))
		b.add(row)
		y += 140
	}
}

func buildAmapResults(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	q := b.searchBox("com.autonavi.minimap:id/search_box", s.arg, 110, top+30, designW-designPad, top+appBarH-30, bgGrey, w.back)
	q.Children[1].st.fg = textMain
	bar.add(q)
	b.add(bar)
	b.add(b.mapView(top+appBarH, top+appBarH+500))
	res := searchPlaces(s.arg)
	b.add(b.list("com.autonavi.minimap:id/poi_list", top+appBarH+500, navTop, len(res), 220, func(i, y int) *Node {
		p := res[i]
		row := clickable(b.linear(0, y, designW, y+220, white), func() {
			w.amap.Selected = p.Name
			w.push("amap.place", p.Name)
		})
		row.ResourceID = "com.autonavi.minimap:id/poi_item"
		row.add(b.label(fmt.Sprintf("%d. %s", i+1, p.Name), designPad, y+25, designW-300, y+100, 46, textMain))
		row.add(b.label(p.Kind+" · "+p.Distance+" · "+p.Address, designPad, y+110, designW-300, y+170, 34, textSub))
		rt := b.button("路线", "com.autonavi.minimap:id/route_btn", designW-260, y+60, designW-designPad, y+160, white, amapBlue, 38, func() {
			w.amap.Selected = p.Name
			w.amapRoute(p.Name)
		})
		rt.st.border = amapBlue
		row.add(rt)
		b.rule(row, designPad, y+218, designW)
		return row
	}))
}

func (w *world) amapRoute(dest string) {
	w.amap.RouteTo = dest
	if w.amap.RouteMode == "" {
		w.amap.RouteMode = "驾车"
	}
	w.push("amap.route", dest)
}

func placeByName(name string) Place {
	for _, p := range searchPlaces(name) {
		if p.Name == name {
			return p
		}
	}
	return Place{Name: name, Address: "深圳市", Distance: "3.0km", Kind: "地点"}
}

func buildAmapPlace(b *builder) {
	b.bg, b.status = white, color.RGBA{}
	w, s := b.w, b.s
	p := placeByName(s.arg)
	b.add(b.mapView(0, navTop-600))
	b.add(b.icon("back", "返回", "", 20, statusH+20, 140, statusH+140, textMain, w.back))
	card := b.linear(0, navTop-600, designW, navTop, white)
	t := b.label(p.Name, designPad, navTop-570, designW, navTop-470, 60, textMain)
	t.ResourceID = "com.autonavi.minimap:id/poi_name"
	card.add(t)
	card.add(b.label(p.Kind+" · 距您"+p.Distance, designPad, navTop-460, designW, navTop-400, 38, textSub))
	card.add(b.label(p.Address, designPad, navTop-390, designW, navTop-330, 38, textSub))
	card.add(b.button("路线", "com.autonavi.minimap:id/route_btn", designPad, navTop-260, 520, navTop-120, white, amapBlue, 46, func() {
		w.amapRoute(p.Name)
	}))
	card.add(b.button("导航", "com.autonavi.minimap:id/navi_btn", 560, navTop-260, designW-designPad, navTop-120, amapBlue, white, 46, func() {
		w.amap.RouteTo = p.Name
		w.amap.Navigating = true
		w.push("amap.nav", p.Name)
	}))
	b.add(card)
}

// routeFigures returns deterministic minutes and kilometres for a mode.
func routeFigures(dest, mode string) (mins int, km string) {
	base := 3 + hashN(dest, 40)
	f := map[string]int{"驾车": 2, "公交": 4, "步行": 12, "骑行": 5}[mode]
	if f == 0 {
		f = 2
	}
	return base * f, fmt.Sprintf("%d.%d", base, hashN(dest+"k", 10))
}

func buildAmapRoute(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	modes := []string{"驾车", "公交", "步行", "骑行"}
	b.add(b.appBar("我的位置 → "+s.arg, true, white, textMain))
	top := statusH + appBarH
	tabs := b.linear(0, top, designW, top+120, white)
	for i, m := range modes {
		m := m
		fg := textMain
		if m == w.amap.RouteMode {
			fg = amapBlue
		}
		t := clickable(b.centered(b.label(m, i*270, top, (i+1)*270, top+120, 44, fg)), func() { w.amap.RouteMode = m })
		t.Selected = m == w.amap.RouteMode
		tabs.add(t)
	}
	b.add(tabs)
	b.add(b.mapView(top+120, navTop-500))
	mins, km := routeFigures(s.arg, w.amap.RouteMode)
	card := b.linear(0, navTop-500, designW, navTop, white)
	sum := b.label(fmt.Sprintf("%d分钟 · %s公里", mins, km), designPad, navTop-470, designW, navTop-370, 60, textMain)
	sum.ResourceID = "com.autonavi.minimap:id/route_summary"
	card.add(sum)
	card.add(b.label(w.amap.RouteMode+" · 推荐路线 · 红绿灯"+itoa(2+hashN(s.arg, 12))+"个", designPad, navTop-360, designW, navTop-300, 38, textSub))
	card.add(b.button("开始导航", "com.autonavi.minimap:id/start_navi", designPad, navTop-240, designW-designPad, navTop-100, amapBlue, white, 48, func() {
		w.amap.Navigating = true
		w.push("amap.nav", s.arg)
	}))
	b.add(card)
}

func buildAmapNav(b *builder) {
	b.bg, b.status = rgb(0x1f, 0x2a, 0x3a), rgb(0x1f, 0x2a, 0x3a)
	w, s := b.w, b.s
	b.add(b.mapView(statusH+360, navTop-260))
	head := b.linear(0, statusH, designW, statusH+360, rgb(0x1f, 0x2a, 0x3a))
	head.add(b.label("500米", designPad, statusH+30, designW, statusH+170, 100, white))
	head.add(b.label("右转进入 深南大道", designPad, statusH+180, designW, statusH+280, 56, white))
	b.add(head)
	mins, km := routeFigures(s.arg, w.amap.RouteMode)
	bar := b.linear(0, navTop-260, designW, navTop, white)
	bar.add(b.label(fmt.Sprintf("剩余 %s公里 · %d分钟  前往 %s", km, mins, s.arg), designPad, navTop-240, designW, navTop-160, 40, textMain))
	bar.add(b.button("退出导航", "com.autonavi.minimap:id/exit_navi", designPad, navTop-140, designW-designPad, navTop-30, rgb(0xe5, 0x39, 0x35), white, 44, func() {
		w.amap.Navigating = false
		w.back()
	}))
	b.add(bar)
}
