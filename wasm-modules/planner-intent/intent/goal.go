package intent

import (
	"strconv"
	"strings"
)

// Kind is what a sub-goal asks for.
type Kind uint8

// Sub-goal kinds.
const (
	KindOpen       Kind = iota + 1 // open App (or the unknown AppName)
	KindTap                        // tap the element called Target
	KindType                       // type Text, into the field called Target if set
	KindToggle                     // set the setting Target to On
	KindBrightness                 // set the brightness to Level
	KindSearch                     // search Text, in App if set
	KindSend                       // send Text to Contact on WeChat
	KindAddCart                    // add the current (or first found) item to the cart
	KindBack                       // press back
	KindHome                       // go to the home screen
	KindEnter                      // press enter
	KindNavigate                   // navigate to Target with Amap
)

var kindNames = [...]string{"", "open", "tap", "type", "toggle", "brightness", "search", "send", "add_cart", "back", "home", "enter", "navigate"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Brightness levels besides 0..100 percent.
const (
	LevelUp   = -1 // brighter than now
	LevelDown = -2 // dimmer than now
)

// Goal is one sub-goal of an instruction: an intent with its slots.
type Goal struct {
	Kind Kind
	// App is the package the goal happens in, when it needs one; AppName
	// is the name the instruction used (for an unknown app, App is empty).
	App, AppName string
	// Target is the element to tap, the field to type into, the setting
	// key (wifi, bluetooth, airplane, dark_mode, auto_brightness) or the
	// place to navigate to.
	Target string
	// Text is the text to type, the search query or the message.
	Text    string
	Contact string
	On      bool
	Level   int
}

// String renders the goal compactly, e.g. send(张三,明天开会).
func (g Goal) String() string {
	var args []string
	if g.App != "" {
		args = append(args, g.App)
	} else if g.AppName != "" {
		args = append(args, "?"+g.AppName)
	}
	switch g.Kind {
	case KindToggle:
		args = append(args, g.Target, strconv.FormatBool(g.On))
	case KindBrightness:
		args = append(args, strconv.Itoa(g.Level))
	case KindSend:
		args = append(args, g.Contact, g.Text)
	default:
		if g.Target != "" {
			args = append(args, g.Target)
		}
		if g.Text != "" {
			args = append(args, g.Text)
		}
	}
	return g.Kind.String() + "(" + strings.Join(args, ",") + ")"
}

// appLabel is the app's display name for people, in the instruction's
// language where known.
func (g Goal) appLabel(zh bool) string {
	if a := AppByPackage(g.App); a != nil {
		if zh || len(a.Aliases) == 0 {
			return a.Name
		}
		return a.Aliases[0]
	}
	return g.AppName
}

// describe says what the goal is, for thinking texts.
func (g Goal) describe(zh bool) string {
	app := g.appLabel(zh)
	on := func(zhs, ens string) string {
		if zh {
			return zhs
		}
		return ens
	}
	switch g.Kind {
	case KindOpen:
		return on("打开"+app, "open "+app)
	case KindTap:
		return on("点击“"+g.Target+"”", "tap \""+g.Target+"\"")
	case KindType:
		return on("输入“"+g.Text+"”", "type \""+g.Text+"\"")
	case KindToggle:
		s := lookupSetting(g.Target)
		name := g.Target
		if s != nil {
			name = s.labels[0]
			if !zh && len(s.labels) > 1 {
				name = s.labels[1]
			}
		}
		if g.On {
			return on("打开"+name, "turn on "+name)
		}
		return on("关闭"+name, "turn off "+name)
	case KindBrightness:
		return on("把亮度调到"+levelText(g.Level, true), "set brightness to "+levelText(g.Level, false))
	case KindSearch:
		if app != "" {
			return on("在"+app+"搜索“"+g.Text+"”", "search \""+g.Text+"\" in "+app)
		}
		return on("搜索“"+g.Text+"”", "search \""+g.Text+"\"")
	case KindSend:
		return on("给"+g.Contact+"发消息“"+g.Text+"”", "send "+g.Contact+" the message \""+g.Text+"\"")
	case KindAddCart:
		return on("加入购物车", "add to cart")
	case KindBack:
		return on("返回", "go back")
	case KindHome:
		return on("回到桌面", "go home")
	case KindEnter:
		return on("按回车", "press enter")
	case KindNavigate:
		return on("导航到"+g.Target, "navigate to "+g.Target)
	}
	return g.String()
}

func levelText(l int, zh bool) string {
	switch {
	case l == LevelUp && zh:
		return "更亮"
	case l == LevelUp:
		return "brighter"
	case l == LevelDown && zh:
		return "更暗"
	case l == LevelDown:
		return "dimmer"
	case l >= 100 && zh:
		return "最高"
	case l >= 100:
		return "maximum"
	case l <= 0 && zh:
		return "最低"
	case l <= 0:
		return "minimum"
	}
	return strconv.Itoa(l) + "%"
}
