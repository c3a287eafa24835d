package intent

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseBounds(t *testing.T) {
	tests := []struct {
		in   string
		want Rect
		ok   bool
	}{
		{"[0,0][1080,2400]", Rect{0, 0, 1080, 2400}, true},
		{"[48,2040][1032,2170]", Rect{48, 2040, 1032, 2170}, true},
		{"[-5,10][20,-3]", Rect{-5, 10, 20, -3}, true},
		{" [1, 2] [3, 4] ", Rect{1, 2, 3, 4}, true},
		{"[1,2][3]", Rect{}, false},
		{"[1,2][3,4]x", Rect{}, false},
		{"", Rect{}, false},
		{"[a,b][c,d]", Rect{}, false},
		{"[99999999999999999999,0][1,1]", Rect{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseBounds(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseBounds(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if x, y := (Rect{48, 2040, 1032, 2170}).Center(); x != 540 || y != 2105 {
		t.Errorf("Center = %d,%d", x, y)
	}
}

const sampleXML = `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">` +
	`<node index="0" text="" class="android.widget.FrameLayout" package="com.example" bounds="[0,0][720,1600]">` +
	`<node index="0" text="Tom &amp; Jerry &#20320;&#x597D; &lt;b&gt; &bogus;" resource-id="com.example:id/title" class="android.widget.TextView" package="com.example" content-desc="" clickable="false" bounds="[0,64][720,176]" />` +
	`<node index="1" text="" resource-id="com.example:id/list" class="androidx.recyclerview.widget.RecyclerView" scrollable="true" bounds="[0,176][720,1500]">` +
	`<node index="0" text="" resource-id="com.example:id/row" class="android.widget.LinearLayout" clickable="true" content-desc="关于手机 About phone" bounds="[0,176][720,300]">` +
	`<node index="0" text="关于手机" class="android.widget.TextView" bounds="[100,200][600,280]"/></node>` +
	`<node index="1" text='搜索' class='android.widget.EditText' focused='true' bounds='[0,300][720,400]'></node>` +
	`</node></node></hierarchy>`

func TestParseXML(t *testing.T) {
	tr, err := ParseXML(sampleXML)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Nodes) != 6 {
		t.Fatalf("%d nodes", len(tr.Nodes))
	}
	n := tr.Nodes[1]
	if n.Text != "Tom & Jerry 你好 <b> &bogus;" || n.ResourceID != "com.example:id/title" || n.Parent != 0 || n.Depth != 1 {
		t.Errorf("node 1 = %+v", n)
	}
	if tr.Nodes[4].Parent != 3 || tr.Nodes[4].Bounds != (Rect{100, 200, 600, 280}) {
		t.Errorf("node 4 = %+v", tr.Nodes[4])
	}
	if e := tr.Nodes[5]; !e.isEdit() || !e.Focused || e.Parent != 2 || e.Text != "搜索" {
		t.Errorf("node 5 (single quotes) = %+v", e)
	}
	if tr.Package() != "com.example" || tr.focusedEdit() != 5 || tr.scrollable() != 2 {
		t.Errorf("package %q focused %d scrollable %d", tr.Package(), tr.focusedEdit(), tr.scrollable())
	}
}

func TestParseXMLMalformed(t *testing.T) {
	tests := []struct {
		in    string
		nodes int
		err   error
	}{
		{"", 0, ErrNoHierarchy},
		{"garbage", 0, ErrNoHierarchy},
		{"<hierarchy></hierarchy>", 0, ErrNoHierarchy},
		{`<hierarchy><node bounds="[1,2][`, 1, ErrMalformed},
		{`<hierarchy><node text="a" bounds="[0,0][10,10]"><node text="b"`, 2, ErrMalformed},
		{`<node text="a"><node text="b"/>`, 2, ErrMalformed}, // unclosed parent
		{`</node></node><node text="a"/>`, 1, ErrMalformed},
		{`<node text=unquoted/>`, 1, ErrMalformed},
		{`<node text="x" <node text="y"/>`, 2, ErrMalformed},
		{`<node checked checkable="true"/>`, 1, nil},
		{"<node text=\"\xff\xfe\"/>", 1, nil},
		{strings.Repeat("<node>", maxDepth+10), maxDepth + 1, ErrMalformed},
	}
	for _, tt := range tests {
		tr, err := ParseXML(tt.in)
		if len(tr.Nodes) != tt.nodes || !errors.Is(err, tt.err) {
			t.Errorf("ParseXML(%.40q) = %d nodes, %v; want %d, %v", tt.in, len(tr.Nodes), err, tt.nodes, tt.err)
		}
	}
}

func loadTree(t testing.TB, name string) *Tree {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".xml")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseXML(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestFindElement(t *testing.T) {
	settings := loadTree(t, "settings")
	launcher := loadTree(t, "launcher")
	wechat := loadTree(t, "wechat_home")
	tests := []struct {
		tree     *Tree
		target   string
		wantText string // text, content-desc or resource-id of the match
	}{
		{settings, "关于手机", "关于手机"},
		{settings, "About phone", "关于手机"}, // English synonym
		{settings, "about", "关于手机"},
		{settings, "蓝牙", "蓝牙"},
		{settings, "bluetooth", "蓝牙"},
		{settings, "显示", "显示与亮度"}, // contained
		{settings, "Display", "显示与亮度"},
		{settings, "wi-fi", "WLAN Wi-Fi"}, // content-desc of the row
		{launcher, "微信", "微信"},
		{launcher, "WeChat", "微信"},
		{launcher, "高德", "高德地图"},
		{wechat, "通讯录", "通讯录"},
		{wechat, "Contacts", "通讯录"},
		{wechat, "张三", "张三"},
		{wechat, "文件传输", "文件传输助手"},
		{wechat, "文件传输助理", "文件传输助手"}, // fuzzy
	}
	for _, tt := range tests {
		i, score := tt.tree.FindElement(tt.target)
		if i < 0 {
			t.Errorf("FindElement(%q): not found", tt.target)
			continue
		}
		n := tt.tree.Nodes[i]
		if n.Text != tt.wantText && n.Desc != tt.wantText && n.ResourceID != tt.wantText {
			t.Errorf("FindElement(%q) = %q/%q (score %d), want %q", tt.target, n.Text, n.Desc, score, tt.wantText)
		}
	}
	for _, miss := range []string{"支付宝", "quantum", ""} {
		if i, _ := settings.FindElement(miss); i >= 0 {
			t.Errorf("FindElement(%q) = %+v, want none", miss, settings.Nodes[i])
		}
	}
}

func TestSimilarity(t *testing.T) {
	if s := similarity("文件传输助手", "文件传输助理"); s < 0.7 || s > 0.9 {
		t.Errorf("similarity = %v", s)
	}
	if similarity("ab", "cd") != 0 || similarity("a", "a") != 1 || similarity("a", "b") != 0 {
		t.Error("similarity edge cases")
	}
	if normalize(" Ｗｉ－Ｆｉ，OK ") != "wifiok" {
		t.Errorf("normalize = %q", normalize(" Ｗｉ－Ｆｉ，OK "))
	}
}

func TestSignatureChanges(t *testing.T) {
	a, _ := ParseXML(sampleXML)
	b, _ := ParseXML(strings.Replace(sampleXML, "focused='true'", "focused='false'", 1))
	c, _ := ParseXML(sampleXML)
	if a.Signature() == b.Signature() || a.Signature() != c.Signature() {
		t.Error("signature does not follow the screen")
	}
}
