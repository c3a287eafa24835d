package phone

import (
	"image/color"
	"strconv"
)

const settingsPkg = "com.android.settings"

func init() {
	registerScreen("settings.home", settingsPkg, ".Settings", buildSettingsHome)
	registerScreen("settings.display", settingsPkg, ".Settings$DisplaySettingsActivity", buildSettingsDisplay)
	registerScreen("settings.about", settingsPkg, ".Settings$MyDeviceInfoActivity", buildSettingsAbout)
}

var settingsBg = rgb(0xf5, 0xf6, 0xf8)

// toggle flips a global on/off setting, with the side effects the
// framework applies.
func (w *world) toggle(ns, key string) {
	// Radios may be turned back on in airplane mode, as on Android.
	w.put(ns, key, boolStr(!w.on(ns, key)))
}

func buildSettingsHome(b *builder) {
	b.bg, b.status = settingsBg, settingsBg
	w := b.w
	title := b.label("设置", designPad, statusH+40, designW-designPad, statusH+200, 80, textMain)
	title.st.bold = true
	b.add(title)
	const rowH = 190
	type item struct {
		id, title, summary, glyph string
		bg                        color.RGBA
		key                       string // global setting toggled by the row
		open                      string // screen opened by the row
		desc                      string
	}
	wifiSum := "已关闭"
	if w.on("global", "wifi_on") {
		wifiSum = "已连接 CloudPhone-5G"
	}
	btSum := "已关闭"
	if w.on("global", "bluetooth_on") {
		btSum = "已开启，未连接设备"
	}
	items := []item{
		{"wifi", "WLAN", wifiSum, "W", rgb(0x1a, 0x73, 0xe8), "wifi_on", "", "WLAN Wi-Fi"},
		{"bluetooth", "蓝牙", btSum, "B", rgb(0x1a, 0x73, 0xe8), "bluetooth_on", "", "蓝牙 Bluetooth"},
		{"airplane", "飞行模式", "", "飞", rgb(0xf2, 0x99, 0x00), "airplane_mode_on", "", "飞行模式 Airplane mode"},
		{"display", "显示与亮度", "亮度 " + strconv.Itoa(w.brightness()*100/255) + "%", "亮", rgb(0xf4, 0xb4, 0x00), "", "settings.display", "显示与亮度 Display brightness"},
		{"battery", "电池", "85% · 充电中", "电", rgb(0x34, 0xa8, 0x53), "", "", "电池 Battery"},
		{"about", "关于手机", b.p.opts.Model, "i", rgb(0x5f, 0x63, 0x68), "", "settings.about", "关于手机 About phone"},
	}
	top := statusH + 230
	lv := b.list("com.android.settings:id/recycler_view", top, navTop, len(items), rowH, func(i, y int) *Node {
		it := items[i]
		var tap func()
		switch {
		case it.key != "":
			tap = func() { w.toggle("global", it.key) }
		case it.open != "":
			tap = func() { w.push(it.open, "") }
		}
		r := b.row("com.android.settings:id/"+it.id, it.title, it.summary, y, rowH, tap)
		r.Desc = it.desc
		r.add(b.badgeIcon(it.glyph, it.bg, designPad+10, y+rowH/2-45, 90))
		if it.key != "" {
			r.add(b.switchWidget(w.on("global", it.key), y, rowH))
		} else if it.open != "" {
			r.add(b.chevron(y, rowH))
		}
		b.rule(r, designPad+130, y+rowH-2, designW)
		return r
	})
	b.add(lv)
}

func buildSettingsDisplay(b *builder) {
	b.bg, b.status = settingsBg, settingsBg
	w := b.w
	b.add(b.appBar("显示与亮度", true, settingsBg, textMain))
	y := statusH + appBarH + 40
	b.add(b.label("亮度", designPad, y, designW-designPad, y+80, 40, rgb(0x1a, 0x73, 0xe8)))
	y += 90
	level := w.brightness()
	bar := b.node("android.widget.SeekBar", designPad+120, y, designW-designPad-120, y+110)
	bar.ResourceID = "com.android.settings:id/brightness_seekbar"
	bar.Desc = "亮度 Brightness"
	bar.Text = strconv.Itoa(level * 100 / 255)
	bar.Clickable, bar.Focusable = true, true
	bar.value = float64(level) / 255
	bar.st.icon, bar.st.fg = "seekbar", rgb(0x1a, 0x73, 0xe8)
	bx0, bx1 := bar.Bounds.Min.X, bar.Bounds.Max.X
	bar.tap = func(x, _ int) {
		v := (x - bx0) * 255 / max(bx1-bx0, 1)
		w.put("system", "screen_brightness", strconv.Itoa(min(max(v, 1), 255)))
		w.put("system", "screen_brightness_mode", "0")
	}
	step := func(d int) func() {
		return func() {
			v := min(max(w.brightness()+d, 1), 255)
			w.put("system", "screen_brightness", strconv.Itoa(v))
			w.put("system", "screen_brightness_mode", "0")
		}
	}
	dim := b.icon("minus", "调暗 Decrease brightness", "com.android.settings:id/brightness_down", designPad, y, designPad+110, y+110, textMain, step(-26))
	brt := b.icon("plus", "调亮 Increase brightness", "com.android.settings:id/brightness_up", designW-designPad-110, y, designW-designPad, y+110, textMain, step(26))
	b.add(dim, bar, brt)
	y += 120
	pct := b.centered(b.label("当前亮度 "+strconv.Itoa(level*100/255)+"%", 0, y, designW, y+70, 36, textSub))
	b.add(pct)
	y += 100
	const rowH = 190
	auto := b.row("com.android.settings:id/auto_brightness", "自动调节亮度", "根据环境光线自动调节", y, rowH, func() {
		w.toggle("system", "screen_brightness_mode")
	})
	auto.add(b.switchWidget(w.on("system", "screen_brightness_mode"), y, rowH))
	auto.Children[0].Bounds.Min.X = b.x(designPad)
	if len(auto.Children) > 1 {
		auto.Children[1].Bounds.Min.X = b.x(designPad)
	}
	y += rowH
	dark := w.get("secure", "ui_night_mode") == "2"
	dm := b.row("com.android.settings:id/dark_mode", "深色模式", "", y, rowH, func() {
		if w.get("secure", "ui_night_mode") == "2" {
			w.put("secure", "ui_night_mode", "1")
		} else {
			w.put("secure", "ui_night_mode", "2")
		}
	})
	dm.Children[0].Bounds.Min.X = b.x(designPad)
	dm.add(b.switchWidget(dark, y, rowH))
	b.add(auto, dm)
}

func buildSettingsAbout(b *builder) {
	b.bg, b.status = settingsBg, settingsBg
	p := b.p
	b.add(b.appBar("关于手机", true, settingsBg, textMain))
	rows := [][2]string{
		{"设备名称", b.w.get("global", "device_name")},
		{"型号", p.opts.Model},
		{"Android 版本", "14"},
		{"版本号", "UQ1A.240105.004"},
		{"序列号", p.opts.Serial},
		{"处理器", "CloudPhone Virtual SoC 8 核"},
		{"运行内存", "8.00 GB"},
		{"机身存储", "256 GB"},
		{"屏幕分辨率", strconv.Itoa(p.opts.Width) + " × " + strconv.Itoa(p.opts.Height)},
	}
	const rowH = 170
	lv := b.list("com.android.settings:id/recycler_view", statusH+appBarH, navTop, len(rows), rowH, func(i, y int) *Node {
		r := b.linear(0, y, designW, y+rowH, color.RGBA{})
		t := b.label(rows[i][0], designPad, y+20, designW-designPad, y+85, 44, textMain)
		t.ResourceID = "android:id/title"
		v := b.label(rows[i][1], designPad, y+90, designW-designPad, y+150, 38, textSub)
		v.ResourceID = "android:id/summary"
		r.add(t, v)
		b.rule(r, designPad, y+rowH-2, designW)
		return r
	})
	b.add(lv)
}
