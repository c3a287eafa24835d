package phone

import (
	"fmt"
	"strings"
)

const taobaoPkg = "com.taobao.taobao"

func init() {
	registerScreen("taobao.home", taobaoPkg, "com.taobao.tao.TBMainActivity", buildTaobaoHome)
	registerScreen("taobao.search", taobaoPkg, "com.taobao.search.searchdoor.SearchDoorActivity", buildTaobaoSearch).autofocus = "com.taobao.taobao:id/searchEdit"
	registerScreen("taobao.results", taobaoPkg, "com.taobao.search.sf.MainSearchResultActivity", buildTaobaoResults)
	registerScreen("taobao.product", taobaoPkg, "com.taobao.android.detail.alidetail.TaoDetailActivity", buildTaobaoProduct)
	registerScreen("taobao.cart", taobaoPkg, "com.taobao.android.trade.cart.CartActivity", buildTaobaoCart)
	registerScreen("taobao.checkout", taobaoPkg, "com.taobao.android.purchase.TBPurchaseActivity", buildTaobaoCheckout)
	registerScreen("taobao.done", taobaoPkg, "com.taobao.android.purchase.PaySuccessActivity", buildTaobaoDone)
}

// TaobaoState is 淘宝's data. CartCount is the number of pieces in Cart.
type TaobaoState struct {
	Searches  []string   `json:"searches"`
	Cart      []CartItem `json:"cart"`
	CartCount int        `json:"cart_count"`
	Orders    []Order    `json:"orders"`
	Viewed    []string   `json:"viewed,omitempty"` // product IDs opened, oldest first
}

var taobaoOrange = rgb(0xff, 0x50, 0x00)

func (w *world) taobaoSearch(q string) {
	q = strings.TrimSpace(q)
	if q == "" {
		return
	}
	w.taobao.Searches = append(w.taobao.Searches, q)
	w.push("taobao.results", q)
}

func (w *world) taobaoAdd(it Item) {
	w.taobao.Cart = addToCart(w.taobao.Cart, CartItem{ID: it.ID, Name: it.Name, Shop: it.Shop, Price: it.Price})
	w.taobao.CartCount, _ = cartTotal(w.taobao.Cart, "")
	w.toastMsg("添加成功，在购物车等亲~")
}

func buildTaobaoHome(b *builder) {
	b.bg, b.status = bgGrey, taobaoOrange
	w, s := b.w, b.s
	switch s.tab {
	case 2:
		b.buildTaobaoCartBody(statusH, navTop-150, true)
	case 3:
		b.add(b.appBar("我的淘宝", false, taobaoOrange, white))
		b.buildTaobaoOrders(statusH + appBarH)
	case 1:
		b.add(b.appBar("消息", false, taobaoOrange, white))
		b.add(b.centered(b.label("暂无新消息", 0, 700, designW, 800, 44, textSub)))
	default:
		head := b.frame(0, statusH, designW, statusH+200, taobaoOrange)
		head.add(b.searchBox("com.taobao.taobao:id/home_searchedit", "搜索宝贝", designPad, statusH+40, designW-designPad, statusH+160, white, func() {
			w.push("taobao.search", "")
		}))
		b.add(head)
		b.add(b.label("猜你喜欢", designPad, statusH+220, designW, statusH+300, 46, textMain))
		b.add(b.list("com.taobao.taobao:id/feed", statusH+310, navTop-150, len(products), 280, func(i, y int) *Node {
			return b.productRow(products[i], y)
		}))
	}
	tabs := []string{"首页", "消息", "购物车", "我的淘宝"}
	if n := w.taobao.CartCount; n > 0 {
		tabs[2] = fmt.Sprintf("购物车(%d)", n)
	}
	b.add(b.tabBar("com.taobao.taobao:id/tabs", tabs, []string{"home", "chat", "cart", "me"}, taobaoOrange))
}

func (b *builder) productRow(it Item, y int) *Node {
	w := b.w
	row := clickable(b.linear(0, y, designW, y+280, white), func() {
		w.taobao.Viewed = append(w.taobao.Viewed, it.ID)
		w.push("taobao.product", it.ID)
	})
	row.ResourceID = "com.taobao.taobao:id/item"
	row.add(b.avatar(it.Name, it.Name, designPad, y+25, 230))
	t := b.label(it.Name, 310, y+25, designW-designPad, y+150, 42, textMain)
	t.st.lines = 2
	t.ResourceID = "com.taobao.taobao:id/title"
	row.add(t)
	p := b.label(price(it.Price), 310, y+160, 700, y+230, 50, taobaoOrange)
	p.ResourceID = "com.taobao.taobao:id/price"
	row.add(p)
	row.add(b.label(it.Sales, 700, y+170, designW-designPad, y+225, 32, textSub))
	row.add(b.label(it.Shop, 310, y+225, designW-designPad, y+270, 32, textSub))
	b.rule(row, 310, y+278, designW)
	return row
}

func buildTaobaoSearch(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	const id = "com.taobao.taobao:id/searchEdit"
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	box := b.edit(id, "搜索宝贝", 110, top+30, designW-220, top+appBarH-30, 42, w.taobaoSearch)
	box.st.border = taobaoOrange
	bar.add(box)
	bar.add(b.button("搜索", "com.taobao.taobao:id/searchbtn", designW-210, top+30, designW-designPad/2, top+appBarH-30, taobaoOrange, white, 40, func() {
		w.taobaoSearch(s.field(id))
	}))
	b.add(bar)
	y := top + appBarH + 30
	b.add(b.label("搜索发现", designPad, y, designW, y+70, 40, textMain))
	y += 90
	x := designPad
	for _, t := range []string{"手机", "蓝牙耳机", "T恤", "零食", "保温杯", "机械键盘"} {
		t := t
		wd := widthDesign(b, t, b.F(38)) + 80
		if x+wd > designW-designPad {
			x, y = designPad, y+110
		}
		tag := b.button(t, "com.taobao.taobao:id/tag", x, y, x+wd, y+90, bgGrey, textMain, 38, func() { w.taobaoSearch(t) })
		tag.Class = "android.widget.TextView"
		b.add(tag)
		x += wd + 30
	}
}

func buildTaobaoResults(b *builder) {
	b.bg, b.status = bgGrey, white
	w, s := b.w, b.s
	top := statusH
	bar := b.linear(0, top, designW, top+appBarH, white)
	bar.add(b.icon("back", "返回", "", 0, top, 110, top+appBarH, textMain, w.back))
	q := b.searchBox("com.taobao.taobao:id/searchbar", s.arg, 110, top+30, designW-designPad, top+appBarH-30, bgGrey, w.back)
	q.Children[1].st.fg = textMain
	bar.add(q)
	b.add(bar)
	res := searchProducts(s.arg)
	b.add(b.list("com.taobao.taobao:id/search_result", top+appBarH, navTop, len(res), 280, func(i, y int) *Node {
		return b.productRow(res[i], y)
	}))
}

func buildTaobaoProduct(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	it, _ := productByID(s.arg)
	img := b.avatar(it.Name, "商品主图", 0, statusH, designW)
	img.Bounds = b.R(0, statusH, designW, statusH+900)
	img.st.radius = 0
	img.st.size = b.F(260)
	b.add(img)
	b.add(b.icon("back", "返回", "", 20, statusH+20, 140, statusH+140, white, w.back))
	y := statusH + 920
	p := b.label(price(it.Price), designPad, y, designW, y+110, 80, taobaoOrange)
	p.ResourceID = "com.taobao.taobao:id/price"
	b.add(p)
	t := b.label(it.Name, designPad, y+120, designW-designPad, y+260, 48, textMain)
	t.st.lines = 2
	t.ResourceID = "com.taobao.taobao:id/title"
	b.add(t)
	b.add(b.label(it.Sales+" · "+it.Shop, designPad, y+270, designW-designPad, y+330, 36, textSub))
	b.add(b.label("发货 浙江杭州 · 快递 免运费 · 7天无理由退货", designPad, y+360, designW-designPad, y+420, 36, textSub))
	barTop := navTop - 170
	bar := b.linear(0, barTop, designW, navTop, white)
	cart := b.icon("cart", "购物车", "com.taobao.taobao:id/cart", 20, barTop, 200, navTop, textMain, func() {
		w.push("taobao.cart", "")
	})
	if n := w.taobao.CartCount; n > 0 {
		cart.st.glyph = itoa(n)
	}
	bar.add(cart)
	add := b.button("加入购物车", "com.taobao.taobao:id/add_cart", 240, barTop+25, 650, navTop-25, rgb(0xff, 0x9a, 0x00), white, 44, func() {
		w.taobaoAdd(it)
	})
	add.Desc = "加入购物车 add to cart"
	buy := b.button("立即购买", "com.taobao.taobao:id/buy_now", 660, barTop+25, designW-designPad/2, navTop-25, taobaoOrange, white, 44, func() {
		w.push("taobao.checkout", it.ID)
	})
	bar.add(add, buy)
	b.add(bar)
}

func buildTaobaoCart(b *builder) {
	b.bg, b.status = bgGrey, white
	b.add(b.appBar(fmt.Sprintf("购物车(%d)", b.w.taobao.CartCount), true, white, textMain))
	b.buildTaobaoCartBody(statusH+appBarH, navTop, false)
}

func (b *builder) buildTaobaoCartBody(top, bottom int, title bool) {
	w := b.w
	if title {
		b.add(b.appBar(fmt.Sprintf("购物车(%d)", w.taobao.CartCount), false, white, textMain))
		top += appBarH
	}
	cart := w.taobao.Cart
	barTop := bottom - 170
	if len(cart) == 0 {
		b.add(b.centered(b.label("购物车竟然是空的", 0, top+300, designW, top+400, 44, textSub)))
	} else {
		b.add(b.list("com.taobao.taobao:id/cart_list", top, barTop, len(cart), 260, func(i, y int) *Node {
			c := cart[i]
			row := b.linear(designPad/2, y+10, designW-designPad/2, y+250, white)
			row.st.radius = b.F(24)
			cb := b.node("android.widget.CheckBox", designPad, y+90, designPad+80, y+170)
			cb.Checkable, cb.Checked = true, true
			cb.st.icon, cb.st.fg = "check", taobaoOrange
			row.add(cb)
			row.add(b.avatar(c.Name, c.Name, 150, y+35, 190))
			t := b.label(c.Name, 370, y+35, designW-designPad, y+140, 40, textMain)
			t.st.lines = 2
			row.add(t)
			row.add(b.label(price(c.Price), 370, y+160, 700, y+230, 46, taobaoOrange))
			row.add(b.label(fmt.Sprintf("×%d", c.Qty), designW-250, y+160, designW-designPad, y+230, 42, textMain))
			return row
		}))
	}
	n, cents := cartTotal(cart, "")
	bar := b.linear(0, barTop, designW, bottom, white)
	bar.add(b.label("合计: "+price(cents), designPad, barTop, designW-420, bottom, 46, taobaoOrange))
	bar.add(b.button(fmt.Sprintf("结算(%d)", n), "com.taobao.taobao:id/checkout", designW-400, barTop+25, designW-designPad/2, bottom-25, taobaoOrange, white, 44, func() {
		if n > 0 {
			w.push("taobao.checkout", "")
		}
	}))
	b.add(bar)
}

func (b *builder) buildTaobaoOrders(top int) {
	os := b.w.taobao.Orders
	if len(os) == 0 {
		b.add(b.centered(b.label("暂无订单", 0, top+200, designW, top+300, 44, textSub)))
		return
	}
	b.add(b.list("com.taobao.taobao:id/order_list", top+20, navTop-150, len(os), 240, func(i, y int) *Node {
		o := os[len(os)-1-i]
		card := b.linear(designPad/2, y+10, designW-designPad/2, y+230, white)
		card.add(b.label(o.Items[0].Name, designPad, y+30, designW-300, y+100, 42, textMain))
		card.add(b.label(o.Status, designW-300, y+30, designW-designPad, y+100, 38, taobaoOrange))
		card.add(b.label(fmt.Sprintf("共%d件 实付 %s · %s", len(o.Items), price(o.Total), o.Time), designPad, y+120, designW-designPad, y+180, 36, textSub))
		return card
	}))
}

// buildTaobaoCheckout confirms an order: of product arg (立即购买), or of
// the whole cart when arg is empty.
func buildTaobaoCheckout(b *builder) {
	b.bg, b.status = bgGrey, white
	w, s := b.w, b.s
	b.add(b.appBar("确认订单", true, white, textMain))
	var items []CartItem
	if it, ok := productByID(s.arg); ok && s.arg != "" {
		items = []CartItem{{ID: it.ID, Name: it.Name, Shop: it.Shop, Price: it.Price, Qty: 1}}
	} else {
		items = append(items, w.taobao.Cart...)
	}
	y := statusH + appBarH + 20
	addr := b.linear(designPad/2, y, designW-designPad/2, y+180, white)
	addr.add(b.label("云手机用户 138****0000", designPad, y+20, designW, y+90, 44, textMain))
	addr.add(b.label("广东省深圳市南山区科技园中区 8 栋 1201", designPad, y+95, designW, y+160, 36, textSub))
	b.add(addr)
	y += 210
	for _, it := range items {
		row := b.linear(designPad/2, y, designW-designPad/2, y+160, white)
		row.add(b.avatar(it.Name, it.Name, designPad, y+20, 120))
		row.add(b.label(it.Name, 200, y+20, designW-designPad, y+90, 38, textMain))
		row.add(b.label(fmt.Sprintf("%s ×%d", price(it.Price), it.Qty), 200, y+95, designW-designPad, y+150, 38, taobaoOrange))
		b.add(row)
		y += 170
		if y > navTop-400 {
			break
		}
	}
	_, cents := cartTotal(items, "")
	barTop := navTop - 170
	bar := b.linear(0, barTop, designW, navTop, white)
	bar.add(b.label("合计: "+price(cents), designPad, barTop, designW-420, navTop, 46, taobaoOrange))
	bar.add(b.button("提交订单", "com.taobao.taobao:id/submit_order", designW-400, barTop+25, designW-designPad/2, navTop-25, taobaoOrange, white, 44, func() {
		if len(items) == 0 {
			return
		}
		o := Order{ID: fmt.Sprintf("TB%d%04d", 3026011500, len(w.taobao.Orders)+1), Items: items, Total: cents,
			Status: "待发货", Time: b.p.clock().Format("01-02 15:04")}
		w.taobao.Orders = append(w.taobao.Orders, o)
		if s.arg == "" {
			w.taobao.Cart, w.taobao.CartCount = nil, 0
		}
		w.replace("taobao.done", o.ID)
	}))
	b.add(bar)
}

func buildTaobaoDone(b *builder) {
	b.bg, b.status = white, white
	w, s := b.w, b.s
	b.add(b.appBar("支付成功", true, white, textMain))
	b.add(b.icon("check", "", "", 390, 500, 690, 800, rgb(0x2e, 0xb8, 0x5c), nil))
	b.add(b.centered(b.label("订单提交成功", 0, 850, designW, 960, 64, textMain)))
	b.add(b.centered(b.label("订单号 "+s.arg, 0, 980, designW, 1050, 36, textSub)))
	b.add(b.button("返回首页", "com.taobao.taobao:id/back_home", 340, 1150, 740, 1270, taobaoOrange, white, 42, func() {
		w.tasks[taobaoPkg] = []*screen{{kind: "taobao.home"}}
		w.changed()
	}))
}
