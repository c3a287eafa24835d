package intent

import (
	"fmt"
	"testing"
)

func TestParseScratch(t *testing.T) {
	for _, s := range []string{
		"打开微信", "open WeChat", "启动淘宝", "点击“关于手机”", "tap About phone", "在搜索框输入咖啡", "type hello",
		"打开飞行模式", "关闭WLAN", "turn on bluetooth", "把亮度调到最高", "打开美团搜索附近的咖啡", "search 咖啡 in 美团",
		"在淘宝搜索耳机", "给张三发消息说明天开会", "打开微信给张三发消息说明天开会", "send 李四 a WeChat message saying hi",
		"在淘宝搜索耳机并加入购物车", "返回", "回到桌面", "go home", "打开设置然后点击关于手机", "打开蓝牙，然后关闭WLAN",
		"open Settings and then tap About phone", "给张三发消息说你好，周末有空吗", "给张三发消息说再见", "send a message to 张三 saying see you tomorrow",
		"search for 耳机 on Taobao and add it to cart", "用高德地图导航到深圳湾公园", "navigate to 深圳湾公园 with Amap", "打开小红书",
		"open the browser and search for weather", "open Meituan, then type 奶茶 in the search box", "在设置里把蓝牙打开", "set brightness to 50%",
		"turn off wi-fi", "把耳机加入购物车", "add 耳机 to cart on Taobao", "打开浏览器输入hello world", "打开设置，点击显示与亮度，然后返回",
		"message 王五 on WeChat saying let's play basketball", "turn the airplane mode off", "关闭飞行模式", "打开深色模式", "turn on dark mode",
	} {
		g, err := Parse(s)
		fmt.Printf("%-50s %v %v\n", s, g, err)
	}
}
