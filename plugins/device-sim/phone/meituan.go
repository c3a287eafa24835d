package phone

import (
	"fmt"
	"image/color"
	"strings"
)

const meituanPkg = "com.sankuai.meituan"

func init() {
	registerScreen("meituan.home", meituanPkg, "com.meituan.android.pt.homepage.activity.MainActivity", buildMeituanHome)
	registerScreen("meituan.search", meituanPkg, "com.sankuai.meituan.search.SearchActivity", buildMeituanSearch).autofocus = "com.sankuai.meituan:id/search_edit"
	registerScreen("meituan.results", meituanPkg, "com.sankuai.meituan.search.result.SearchResultActivity", buildMeituanResults)
	registerScreen("meituan.shop", meituanPkg, "com.sankuai.waimai.business.restaurant.WMRestaurantActivity", buildMeituanShop)
	registerScreen("meituan.checkout", meituanPkg, "com.sankuai.waimai.business.order.submit.OrderConfirmActivity", buildMeituanCheckout)
	registerScreen("meituan.done", meituanPkg, "com.sankuai.waimai.business.order.PaySuccessActivity", buildMeituanDone)
}

// CartItem is a line of a shopping cart or an order; Price is in cents.
type CartItem struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Shop  string `json:"shop"`
	Price int    `json:"price"`
	Qty   int    `json:"qty"`
}

// Order is a submitted order.
type Order struct {
	ID     string     `json:"id"`
	Shop   string     `json:"shop,omitempty"`
	Items  []CartItem `json:"items"`
	Total  int        `json:"total"` // cents
	Status string     `json:"status"`
	Time   string     `json:"time"`
}

// MeituanState is 美团's data.
type MeituanState struct {
	Searches []string   `json:"searches"` // submitted queries, oldest first
	Cart     []CartItem `json:"cart"`
	Orders   []Order    `json:"orders"`
}

func addToCart(cart []CartItem, it CartItem) []CartItem {
	for i := range cart {
		if cart[i].ID == it.ID {
			cart[i].Qty++
			return cart
		}
	}
	it.Qty = 1
	return append(cart, it)
}

func cartTotal(cart []CartItem, shop string) (n, cents int) {
	for _, c := range cart {
		if shop == "" || c.Shop == shop {
			n += c.Qty
			cents += c.Qty * c.Price
		}
	}
	return n, cents
}

var meituanYellow = rgb(0xff, 0xd1, 0x00)

func (w *world) meituanSearch(q string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	w.meituan.Searches = append(w.meituan.Searches, q)
	w.push("meituan.results", q)
}

func buildMeituanHome(b *builder) {
	b.bg, b.status = bgGrey, meituanYellow
	w, s := b.w, b.s
	top := statusH
	head := b.frame(0, top, designW, top+260, meituanYellow)
	head.add(b.label("深圳", designPad, top+10, 300, top+110, 44, textMain))
	head.add(b.searchBox("com.sankuai.meituan:id/search_box", "搜索美食、商家、商品", designPad, top+120, designW-designPad, top+230, white, func() {
		w.push("meituan.search", "")
	}))
	b.add(head)
	switch s.tab {
	case 1:
		b.buildMeituanOrders(top + 260)
	case 2:
		card := b.linear(0, top+280, designW, top+560, white)
		card.add(b.avatar("美", "头像", designPad, top+320, 180))
		card.add(b.label("云手机用户", 280, top+330, designW, top+410, 52, textMain))
		card.add(b.label(fmt.Sprintf("订单 %d · 购物车 %d 件", len(w.meituan.Orders), len(w.meituan.Cart)), 280, top+420, designW, top+480, 36, textSub))
		b.add(card)
		b.add(clickable(b.label("我的订单", designPad, top+600, designW, top+740, 46, textMain), func() { s.tab = 1 }))
	default:
		cats := []string{"美食", "外卖", "咖啡", "奶茶", "火锅", "酒店民宿", "休闲玩乐", "电影演出", "打车", "买菜"}
		grid := b.frame(0, top+280, designW, top+640, white)
		for i, c := range cats {
			c := c
			x, y := (i%5)*216, top+290+(i/5)*170
			cell := clickable(b.linear(x, y, x+216, y+170, color.RGBA{}), func() { w.meituanSearch(c) })
			cell.Desc = c
			cell.add(b.badgeIcon(firstRune(c), avatarColors[i%len(avatarColors)], x+63, y+5, 90))
			cell.add(b.centered(b.label(c, x, y+100, x+216, y+160, 34, textMain)))
			grid.add(cell)
		}
		b.add(grid)
		b.add(b.label("猜你喜欢", designPad, top+660, designW, top+740, 46, textMain))
		b.add(b.list("com.sankuai.meituan:id/feed", top+750, navTop-150, len(shops), 230, func(i, y int) *Node {
			return b.shopRow(shops[i], y)
		}))
	}
	b.add(b.tabBar("com.sankuai.meituan:id/tabs", []string{"首页", "订单", "我的"}, []string{"home", "order", "me"}, rgb(0xff, 0x98, 0x00)))
}

func (b *builder) buildMeituanOrders(top int) {
	os := b.w.meituan.Orders
	if len(os) == 0 {
		b.add(b.centered(b.label("暂无订单", 0, top+200, designW, top+300, 44, textSub)))
		return
	}
	b.add(b.list("com.sankuai.meituan:id/order_list", top+20, navTop-150, len(os), 240, func(i, y int) *Node {
		o := os[len(os)-1-i]
		card := b.linear(designPad/2, y+10, designW-designPad/2, y+230, white)
		card.st.radius = b.F(20)
		card.add(b.label(o.Shop, designPad, y+30, designW-300, y+100, 44, textMain))
		card.add(b.label(o.Status, designW-300, y+30, designW-designPad, y+100, 38, rgb(0xff, 0x66, 0x00)))
		var names []string
		for _, it := range o.Items {
			names = append(names, fmt.Sprintf("%s×%d", it.Name, it.Qty))
		}
		card.add(b.label(strings.Join(names, "，"), designPad, y+110, designW-designPad, y+160, 36, textSub))
		card.add(b.label("实付 "+price(o.Total)+" · "+o.Time, designPad, y+165, designW-designPad, y+215, 36, textMain))
		return card
	}))
}

func (b *builder) shopRow(sh Shop, y int) *Node {
	w := b.w
	row := clickable(b.linear(0, y, designW, y+230, white), func() { w.push("meituan.shop", sh.ID) })
	row.ResourceID = "com.sankuai.meituan:id/shop_item"
	row.add(b.avatar(sh.Name, sh.Name, designPad, y+25, 180))
	n := b.label(sh.Name, 260, y+25, designW-designPad, y+95, 46, textMain)
	n.ResourceID = "com.sankuai.meituan:id/shop_name"
	n.st.bold = true
	row.add(n)
	row.add(b.label(sh.Rating+"分  "+sh.Sales+"  "+sh.Distance, 260, y+100, designW-designPad, y+150, 36, rgb(0xff, 0x66, 0x00)))
	row.add(b.label("起送¥20  配送约¥3  "+strings.Join(sh.Tags, " · "), 260, y+155, designW-designPad, y+205, 34, textSub))
	b.rule(row, 260, y+228, designW)
	return row
}

func buildMeituanSearch(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	const id = "com.sankuai.meituan:id/search_edit"
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	box := b.edit(id, "搜索美食、商家、商品", 110, top+30, designW-220, top+appBarH-30, 42, w.meituanSearch)
	box.st.bg = bgGrey
	bar.add(box)
	bar.add(b.button("搜索", "com.sankuai.meituan:id/search_btn", designW-210, top+30, designW-designPad/2, top+appBarH-30, meituanYellow, textMain, 40, func() {
		w.meituanSearch(s.field(id))
	}))
	b.add(bar)
	y := top + appBarH + 30
	section := func(title string, tags []string) {
		if len(tags) == 0 {
			return
		}
		b.add(b.label(title, designPad, y, designW, y+70, 40, textMain))
		y += 90
		x := designPad
		for _, t := range tags {
			t := t
			wd := widthDesign(b, t, b.F(38)) + 80
			if x+wd > designW-designPad {
				x, y = designPad, y+110
			}
			tag := b.button(t, "com.sankuai.meituan:id/tag", x, y, x+wd, y+90, bgGrey, textMain, 38, func() { w.meituanSearch(t) })
			tag.Class = "android.widget.TextView"
			b.add(tag)
			x += wd + 30
		}
		y += 130
	}
	var hist []string
	for i := len(w.meituan.Searches) - 1; i >= 0 && len(hist) < 6; i-- {
		if !contains(hist, w.meituan.Searches[i]) {
			hist = append(hist, w.meituan.Searches[i])
		}
	}
	section("历史搜索", hist)
	section("热门搜索", []string{"咖啡", "奶茶", "火锅", "麦当劳", "烧烤", "蛋糕"})
}

func buildMeituanResults(b *builder) {
	b.bg, b.status = bgGrey, white
	w, s := b.w, b.s
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	q := b.searchBox("com.sankuai.meituan:id/search_box", s.arg, 110, top+30, designW-designPad, top+appBarH-30, bgGrey, w.back)
	q.Children[1].st.fg = textMain
	bar.add(q)
	b.add(bar)
	res := searchShops(s.arg)
	b.add(b.label(fmt.Sprintf("为你找到 %d 家相关商家", len(res)), designPad, top+appBarH, designW, top+appBarH+80, 34, textSub))
	b.add(b.list("com.sankuai.meituan:id/result_list", top+appBarH+80, navTop, len(res), 230, func(i, y int) *Node {
		return b.shopRow(res[i], y)
	}))
}

func buildMeituanShop(b *builder) {
	b.bg, b.status = white, meituanYellow
	w, s := b.w, b.s
	sh, _ := shopByID(s.arg)
	head := b.frame(0, statusH, designW, statusH+330, meituanYellow)
	head.add(b.icon("back", "返回", "", 0, statusH, 110, statusH+140, textMain, w.back))
	t := b.label(sh.Name, 130, statusH+20, designW-designPad, statusH+130, 52, textMain)
	t.st.bold = true
	head.add(t)
	head.add(b.label(sh.Rating+"分 · "+sh.Sales+" · 距离"+sh.Distance, 130, statusH+140, designW, statusH+200, 36, textMain))
	head.add(b.label("公告：欢迎光临，新客立减5元", 130, statusH+210, designW, statusH+270, 34, rgb(0x66, 0x55, 0x00)))
	b.add(head)
	barTop := navTop - 170
	b.add(b.list("com.sankuai.meituan:id/goods_list", statusH+330, barTop, len(sh.Items), 250, func(i, y int) *Node {
		it := sh.Items[i]
		row := b.linear(0, y, designW, y+250, white)
		row.add(b.avatar(it.Name, it.Name, designPad, y+30, 180))
		n := b.label(it.Name, 260, y+30, designW-designPad, y+100, 46, textMain)
		n.ResourceID = "com.sankuai.meituan:id/goods_name"
		row.add(n)
		if it.Desc != "" {
			row.add(b.label(it.Desc, 260, y+100, designW-380, y+150, 34, textSub))
		}
		pr := b.label(price(it.Price), 260, y+160, 560, y+230, 46, rgb(0xff, 0x44, 0x00))
		row.add(pr)
		qty := 0
		for _, c := range w.meituan.Cart {
			if c.ID == it.ID {
				qty = c.Qty
			}
		}
		if qty > 0 {
			row.add(b.label(fmt.Sprintf("×%d", qty), designW-430, y+160, designW-330, y+230, 40, textMain))
		}
		add := b.button("加入购物车", "com.sankuai.meituan:id/add_to_cart", designW-320, y+155, designW-designPad, y+235, meituanYellow, textMain, 36, func() {
			w.meituan.Cart = addToCart(w.meituan.Cart, CartItem{ID: it.ID, Name: it.Name, Shop: sh.Name, Price: it.Price})
			w.toastMsg("已加入购物车")
		})
		add.Desc = "加入购物车 add to cart"
		row.add(add)
		b.rule(row, 260, y+248, designW)
		return row
	}))
	n, cents := cartTotal(w.meituan.Cart, sh.Name)
	bar := b.linear(0, barTop, designW, navTop, rgb(0x33, 0x33, 0x33))
	cart := b.label(fmt.Sprintf("购物车 %d 件  %s", n, price(cents)), designPad, barTop, designW-380, navTop, 44, white)
	cart.ResourceID = "com.sankuai.meituan:id/cart_summary"
	bar.add(cart)
	bg := rgb(0x77, 0x77, 0x77)
	if n > 0 {
		bg = meituanYellow
	}
	checkout := b.button("去结算", "com.sankuai.meituan:id/checkout", designW-360, barTop+25, designW-designPad/2, navTop-25, bg, textMain, 44, func() {
		if n > 0 {
			w.push("meituan.checkout", sh.Name)
		} else {
			w.toastMsg("购物车是空的")
		}
	})
	checkout.Enabled = n > 0
	bar.add(checkout)
	b.add(bar)
}

func buildMeituanCheckout(b *builder) {
	b.bg, b.status = bgGrey, white
	w, s := b.w, b.s
	b.add(b.appBar("确认订单", true, white, textMain))
	y := statusH + appBarH + 20
	addr := b.linear(designPad/2, y, designW-designPad/2, y+200, white)
	addr.add(b.label("深圳市南山区科技园中区 8 栋 1201", designPad, y+30, designW-designPad, y+100, 44, textMain))
	addr.add(b.label("云手机用户 138****0000 · 立即送出 约30分钟送达", designPad, y+110, designW-designPad, y+170, 36, textSub))
	b.add(addr)
	y += 230
	var items []CartItem
	for _, c := range w.meituan.Cart {
		if c.Shop == s.arg {
			items = append(items, c)
		}
	}
	card := b.linear(designPad/2, y, designW-designPad/2, y+120+len(items)*90, white)
	card.add(b.label(s.arg, designPad, y+20, designW-designPad, y+100, 44, textMain))
	for i, it := range items {
		yy := y + 110 + i*90
		card.add(b.label(fmt.Sprintf("%s ×%d", it.Name, it.Qty), designPad, yy, designW-400, yy+80, 40, textMain))
		p := b.label(price(it.Price*it.Qty), designW-400, yy, designW-designPad, yy+80, 40, textMain)
		p.st.align = alignRight
		card.add(p)
	}
	b.add(card)
	_, cents := cartTotal(w.meituan.Cart, s.arg)
	total := cents + 300
	bar := b.linear(0, navTop-170, designW, navTop, white)
	tl := b.label("合计 "+price(total)+"（含配送费¥3）", designPad, navTop-170, designW-400, navTop, 42, rgb(0xff, 0x44, 0x00))
	tl.ResourceID = "com.sankuai.meituan:id/total"
	bar.add(tl)
	bar.add(b.button("提交订单", "com.sankuai.meituan:id/submit_order", designW-380, navTop-145, designW-designPad/2, navTop-25, meituanYellow, textMain, 44, func() {
		o := Order{ID: fmt.Sprintf("MT%d%04d", 2026011500, len(w.meituan.Orders)+1), Shop: s.arg, Items: items, Total: total,
			Status: "商家已接单", Time: b.p.clock().Format("01-02 15:04")}
		w.meituan.Orders = append(w.meituan.Orders, o)
		var rest []CartItem
		for _, c := range w.meituan.Cart {
			if c.Shop != s.arg {
				rest = append(rest, c)
			}
		}
		w.meituan.Cart = rest
		w.replace("meituan.done", o.ID)
	}))
	b.add(bar)
}

func buildMeituanDone(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	b.add(b.appBar("支付成功", true, white, textMain))
	b.add(b.icon("check", "", "", 390, 500, 690, 800, rgb(0x2e, 0xb8, 0x5c), nil))
	b.add(b.centered(b.label("下单成功", 0, 850, designW, 960, 64, textMain)))
	b.add(b.centered(b.label("订单号 "+s.arg+"，商家已接单，预计30分钟送达", 0, 980, designW, 1050, 36, textSub)))
	b.add(b.button("查看订单", "com.sankuai.meituan:id/view_order", 180, 1150, 520, 1270, white, textMain, 42, func() {
		w.tasks[meituanPkg] = []*screen{{kind: "meituan.home", tab: 1}}
		w.changed()
	}))
	b.add(b.button("返回首页", "com.sankuai.meituan:id/back_home", 560, 1150, 900, 1270, meituanYellow, textMain, 42, func() {
		w.tasks[meituanPkg] = []*screen{{kind: "meituan.home"}}
		w.changed()
	}))
}
