package phone

import (
	"os"
	"testing"
)

func TestZZShots(t *testing.T) {
	save := func(p *Phone, name string) {
		png, err := p.Screenshot()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile("/tmp/phonetry/"+name+".png", png, 0o644)
	}
	p := New(Options{})
	must(t, p, "monkey -p com.android.settings 1")
	tap(t, p, "显示与亮度")
	save(p, "s_display")
	must(t, p, "monkey -p com.sankuai.meituan 1")
	tap(t, p, "搜索美食、商家、商品")
	save(p, "s_mt_search")
	tap(t, p, "咖啡")
	save(p, "s_mt_results")
	tap(t, p, "瑞幸咖啡(科技园店)")
	tap(t, p, "加入购物车")
	save(p, "s_mt_shop")
	must(t, p, "monkey -p com.taobao.taobao 1")
	tap(t, p, "Apple AirPods Pro 2 蓝牙耳机")
	tap(t, p, "加入购物车")
	save(p, "s_tb_product")
	must(t, p, "monkey -p com.autonavi.minimap 1")
	tap(t, p, "美食")
	tap(t, p, "1. 美食")
	tap(t, p, "路线")
	save(p, "s_amap_route")
	must(t, p, "input keyevent 187")
	save(p, "s_recents")
	must(t, p, "settings put global airplane_mode_on 1; settings put global bluetooth_on 1")
	must(t, p, "monkey -p com.android.browser 1")
	save(p, "s_browser")
}
