package phone

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// Shared, read-only catalog data of the shopping and map apps. Queries
// with no catalog match get generated, deterministic entries, so any
// search shows results as the real apps do.

// Shop is a 美团 merchant.
type Shop struct {
	ID       string
	Name     string
	Tags     []string
	Rating   string
	Sales    string
	Distance string
	Items    []Item
}

// Item is a product of a shop or of 淘宝; Price is in cents.
type Item struct {
	ID    string
	Name  string
	Desc  string
	Price int
	Shop  string
	Sales string
}

var shops = []Shop{
	{ID: "luckin", Name: "瑞幸咖啡(科技园店)", Tags: []string{"咖啡", "饮品", "拿铁"}, Rating: "4.8", Sales: "月售9999+", Distance: "350m", Items: []Item{
		{ID: "luckin-1", Name: "生椰拿铁", Desc: "招牌爆款 冰/热", Price: 990}, {ID: "luckin-2", Name: "美式咖啡", Desc: "经典醇香", Price: 880},
		{ID: "luckin-3", Name: "厚乳拿铁", Desc: "浓郁奶香", Price: 1290}, {ID: "luckin-4", Name: "椰云拿铁", Desc: "椰香绵密", Price: 1390}}},
	{ID: "starbucks", Name: "星巴克(深南大道店)", Tags: []string{"咖啡", "饮品", "拿铁"}, Rating: "4.7", Sales: "月售3000+", Distance: "1.2km", Items: []Item{
		{ID: "sbux-1", Name: "拿铁 大杯", Desc: "浓缩咖啡与牛奶", Price: 3200}, {ID: "sbux-2", Name: "美式 大杯", Desc: "", Price: 2800},
		{ID: "sbux-3", Name: "焦糖玛奇朵", Desc: "香草与焦糖", Price: 3500}}},
	{ID: "manner", Name: "Manner Coffee(海岸城店)", Tags: []string{"咖啡", "饮品"}, Rating: "4.8", Sales: "月售2000+", Distance: "800m", Items: []Item{
		{ID: "manner-1", Name: "燕麦拿铁", Desc: "", Price: 1900}, {ID: "manner-2", Name: "澳白", Desc: "", Price: 2000}}},
	{ID: "heytea", Name: "喜茶(海岸城店)", Tags: []string{"奶茶", "饮品", "果茶"}, Rating: "4.7", Sales: "月售5000+", Distance: "900m", Items: []Item{
		{ID: "heytea-1", Name: "多肉葡萄", Desc: "当季鲜果", Price: 1900}, {ID: "heytea-2", Name: "芝芝莓莓", Desc: "", Price: 2200},
		{ID: "heytea-3", Name: "烤黑糖波波牛乳", Desc: "", Price: 1600}}},
	{ID: "mixue", Name: "蜜雪冰城(大学城店)", Tags: []string{"奶茶", "饮品", "冰淇淋"}, Rating: "4.6", Sales: "月售9999+", Distance: "500m", Items: []Item{
		{ID: "mixue-1", Name: "冰鲜柠檬水", Desc: "", Price: 400}, {ID: "mixue-2", Name: "珍珠奶茶", Desc: "", Price: 700},
		{ID: "mixue-3", Name: "摩天脆脆", Desc: "", Price: 600}}},
	{ID: "chagee", Name: "霸王茶姬(万象城店)", Tags: []string{"奶茶", "饮品"}, Rating: "4.8", Sales: "月售8000+", Distance: "1.5km", Items: []Item{
		{ID: "chagee-1", Name: "伯牙绝弦", Desc: "原叶鲜奶茶", Price: 1600}, {ID: "chagee-2", Name: "桂馥兰香", Desc: "", Price: 1800}}},
	{ID: "haidilao", Name: "海底捞火锅(南山店)", Tags: []string{"火锅", "川菜", "美食"}, Rating: "4.9", Sales: "月售3000+", Distance: "2.1km", Items: []Item{
		{ID: "hdl-1", Name: "番茄锅底", Desc: "", Price: 5800}, {ID: "hdl-2", Name: "精品肥牛", Desc: "", Price: 6800},
		{ID: "hdl-3", Name: "虾滑", Desc: "", Price: 4200}, {ID: "hdl-4", Name: "捞派毛肚", Desc: "", Price: 5200}}},
	{ID: "dalongyi", Name: "大龙燚火锅(科技园店)", Tags: []string{"火锅", "川菜", "美食"}, Rating: "4.7", Sales: "月售1500+", Distance: "1.8km", Items: []Item{
		{ID: "dly-1", Name: "麻辣锅底", Desc: "", Price: 4800}, {ID: "dly-2", Name: "鲜毛肚", Desc: "", Price: 4600}}},
	{ID: "mcd", Name: "麦当劳(科技园店)", Tags: []string{"汉堡", "快餐", "炸鸡", "美食"}, Rating: "4.7", Sales: "月售9999+", Distance: "600m", Items: []Item{
		{ID: "mcd-1", Name: "巨无霸套餐", Desc: "汉堡+薯条+可乐", Price: 3900}, {ID: "mcd-2", Name: "麦辣鸡腿堡", Desc: "", Price: 2300},
		{ID: "mcd-3", Name: "麦乐鸡 5块", Desc: "", Price: 1300}}},
	{ID: "kfc", Name: "肯德基(海岸城店)", Tags: []string{"汉堡", "快餐", "炸鸡", "美食"}, Rating: "4.6", Sales: "月售9999+", Distance: "950m", Items: []Item{
		{ID: "kfc-1", Name: "香辣鸡腿堡", Desc: "", Price: 2200}, {ID: "kfc-2", Name: "吮指原味鸡", Desc: "", Price: 1300}}},
	{ID: "shaxian", Name: "沙县小吃(桃园路店)", Tags: []string{"小吃", "快餐", "美食"}, Rating: "4.5", Sales: "月售2000+", Distance: "300m", Items: []Item{
		{ID: "sx-1", Name: "拌面+扁肉", Desc: "", Price: 1500}, {ID: "sx-2", Name: "鸡腿饭", Desc: "", Price: 1800}}},
}

// hashN returns a stable number in [0, n) for s.
func hashN(s string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return int(h.Sum32() % uint32(max(n, 1)))
}

func matches(q string, name string, tags []string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return false
	}
	if strings.Contains(strings.ToLower(name), q) {
		return true
	}
	for _, t := range tags {
		if strings.Contains(q, t) || strings.Contains(t, q) {
			return true
		}
	}
	return false
}

// searchShops returns the shops for a 美团 query.
func searchShops(q string) []Shop {
	var out []Shop
	for _, s := range shops {
		if matches(q, s.Name, s.Tags) {
			out = append(out, s)
		}
	}
	if len(out) == 0 && strings.TrimSpace(q) != "" {
		for i := 0; i < 3; i++ {
			out = append(out, genShop("gen:"+q+":"+strconv.Itoa(i)))
		}
	}
	return out
}

// genShop builds the generated shop with ID "gen:QUERY:N".
func genShop(id string) Shop {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) != 3 {
		return Shop{ID: id, Name: id}
	}
	q := parts[1]
	n, _ := strconv.Atoi(parts[2])
	suffix := []string{"(科技园店)", "·精选(南山店)", "专卖(海岸城店)"}[n%3]
	s := Shop{ID: id, Name: q + suffix, Tags: []string{q}, Rating: "4." + strconv.Itoa(5+hashN(id, 5)),
		Sales: "月售" + strconv.Itoa(100+hashN(id, 900)) + "+", Distance: strconv.Itoa(300+hashN(id+"d", 2500)) + "m"}
	for j, kind := range []string{"招牌", "经典", "双人套餐"} {
		s.Items = append(s.Items, Item{ID: id + ":" + strconv.Itoa(j), Name: kind + q, Price: 1500 + hashN(id+kind, 60)*100})
	}
	return s
}

func shopByID(id string) (Shop, bool) {
	for _, s := range shops {
		if s.ID == id {
			return s, true
		}
	}
	if strings.HasPrefix(id, "gen:") {
		return genShop(id), true
	}
	return Shop{}, false
}

var products = []Item{
	{ID: "tb-case", Name: "iPhone 15 Pro 手机壳 透明防摔", Price: 1990, Shop: "数码配件旗舰店", Sales: "10万+人付款"},
	{ID: "tb-mate60", Name: "华为 Mate 60 Pro 12GB+512GB 雅川青", Price: 699900, Shop: "华为官方旗舰店", Sales: "5万+人付款"},
	{ID: "tb-mi14", Name: "小米14 徕卡光学 16GB+512GB", Price: 399900, Shop: "小米官方旗舰店", Sales: "3万+人付款"},
	{ID: "tb-airpods", Name: "Apple AirPods Pro 2 蓝牙耳机", Price: 179900, Shop: "Apple Store 官方旗舰店", Sales: "2万+人付款"},
	{ID: "tb-earbuds", Name: "漫步者 真无线蓝牙耳机 降噪", Price: 19900, Shop: "漫步者官方旗舰店", Sales: "8万+人付款"},
	{ID: "tb-tshirt", Name: "纯棉短袖T恤 男 夏季宽松白色", Price: 3900, Shop: "优衣库官方旗舰店", Sales: "20万+人付款"},
	{ID: "tb-shoes", Name: "李宁 跑步鞋 男款 轻量缓震", Price: 29900, Shop: "李宁官方旗舰店", Sales: "6万+人付款"},
	{ID: "tb-keyboard", Name: "机械键盘 RGB 青轴 有线", Price: 19900, Shop: "罗技官方旗舰店", Sales: "1万+人付款"},
	{ID: "tb-cup", Name: "316不锈钢保温杯 大容量", Price: 5900, Shop: "膳魔师旗舰店", Sales: "4万+人付款"},
	{ID: "tb-snack", Name: "三只松鼠 零食大礼包 1.5kg", Price: 4990, Shop: "三只松鼠旗舰店", Sales: "30万+人付款"},
	{ID: "tb-coffee", Name: "三顿半 精品速溶咖啡 24颗", Price: 16900, Shop: "三顿半旗舰店", Sales: "10万+人付款"},
	{ID: "tb-charger", Name: "Anker 65W 氮化镓充电器", Price: 14900, Shop: "Anker官方旗舰店", Sales: "5万+人付款"},
}

var productTags = map[string][]string{
	"tb-case": {"手机壳", "iPhone", "手机配件"}, "tb-mate60": {"手机", "华为"}, "tb-mi14": {"手机", "小米"},
	"tb-airpods": {"耳机", "蓝牙耳机", "苹果"}, "tb-earbuds": {"耳机", "蓝牙耳机"}, "tb-tshirt": {"T恤", "衣服", "短袖"},
	"tb-shoes": {"鞋", "跑步鞋", "运动鞋"}, "tb-keyboard": {"键盘", "机械键盘"}, "tb-cup": {"杯子", "保温杯", "水杯"},
	"tb-snack": {"零食"}, "tb-coffee": {"咖啡"}, "tb-charger": {"充电器", "充电头"},
}

func searchProducts(q string) []Item {
	var out []Item
	for _, p := range products {
		if matches(q, p.Name, productTags[p.ID]) {
			out = append(out, p)
		}
	}
	if len(out) == 0 && strings.TrimSpace(q) != "" {
		for i := 0; i < 4; i++ {
			out = append(out, genProduct("gen:"+q+":"+strconv.Itoa(i)))
		}
	}
	return out
}

func genProduct(id string) Item {
	parts := strings.SplitN(id, ":", 3)
	if len(parts) != 3 {
		return Item{ID: id, Name: id, Price: 9900}
	}
	n, _ := strconv.Atoi(parts[2])
	kinds := []string{"热卖爆款", "官方正品", "新款", "高性价比"}
	return Item{ID: id, Name: parts[1] + " " + kinds[n%4], Price: 1990 + hashN(id, 300)*100,
		Shop: parts[1] + "旗舰店", Sales: strconv.Itoa(1+hashN(id+"s", 50)) + "千+人付款"}
}

func productByID(id string) (Item, bool) {
	for _, p := range products {
		if p.ID == id {
			return p, true
		}
	}
	if strings.HasPrefix(id, "gen:") {
		return genProduct(id), true
	}
	return Item{}, false
}

// Place is a 高德地图 point of interest.
type Place struct {
	Name, Address, Distance, Kind string
}

var places = []Place{
	{"天安门广场", "北京市东城区东长安街", "2105km", "景点"},
	{"北京南站", "北京市丰台区永外大街车站路12号", "2110km", "火车站"},
	{"深圳北站", "深圳市龙华区致远中路28号", "15.2km", "火车站"},
	{"深圳宝安国际机场", "深圳市宝安区航站四路", "28.6km", "机场"},
	{"深圳湾公园", "深圳市南山区滨海大道", "4.3km", "公园"},
	{"腾讯滨海大厦", "深圳市南山区海天二路33号", "1.1km", "公司"},
	{"海岸城购物中心", "深圳市南山区文心五路33号", "2.0km", "商场"},
	{"世界之窗", "深圳市南山区深南大道9037号", "6.8km", "景点"},
	{"瑞幸咖啡(科技园店)", "深圳市南山区科技园中区", "350m", "咖啡"},
	{"星巴克(深南大道店)", "深圳市南山区深南大道10000号", "1.2km", "咖啡"},
}

func searchPlaces(q string) []Place {
	var out []Place
	for _, p := range places {
		if matches(q, p.Name, []string{p.Kind}) || strings.Contains(p.Address, strings.TrimSpace(q)) && strings.TrimSpace(q) != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 && strings.TrimSpace(q) != "" {
		out = []Place{
			{q, "深圳市南山区" + q + "路" + strconv.Itoa(1+hashN(q, 200)) + "号", strconv.Itoa(1+hashN(q, 30)) + "." + strconv.Itoa(hashN(q+"x", 10)) + "km", "地点"},
			{q + "(地铁站)", "深圳地铁" + strconv.Itoa(1+hashN(q, 12)) + "号线", strconv.Itoa(2+hashN(q+"m", 20)) + ".0km", "地铁站"},
			{q + "停车场", "深圳市福田区" + q + "附近", strconv.Itoa(3+hashN(q+"p", 20)) + ".5km", "停车场"},
		}
	}
	return out
}
