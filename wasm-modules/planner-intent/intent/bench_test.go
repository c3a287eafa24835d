package intent

import (
	"encoding/xml"
	"os"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkPlan is one planner step on a typical observation: the WeChat
// chat list (21 KiB of XML, 100+ nodes), deciding to open a chat.
func BenchmarkPlan(b *testing.B) {
	obs := obsFrom(b, "wechat_home", "com.tencent.mm", 1080, 2400)
	req := &cpv1.PlanRequest{Instruction: "打开微信给张三发消息说明天开会", Step: 2, Observation: obs}
	if r := Plan(req); r.GetAction().GetType() != cpv1.ActionType_ACTION_TYPE_TAP {
		b.Fatalf("unexpected response %v", r)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(obs.GetUiXml())))
	for b.Loop() {
		Plan(req)
	}
}

// BenchmarkPlanMulti is a step of a three-part instruction on the
// Settings screen, two of whose goals are already done there.
func BenchmarkPlanMulti(b *testing.B) {
	obs := obsFrom(b, "settings", "com.android.settings", 1080, 2400)
	req := &cpv1.PlanRequest{Instruction: "open Settings, turn off airplane mode, then turn on bluetooth", Step: 2, Observation: obs}
	b.ReportAllocs()
	for b.Loop() {
		Plan(req)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("打开微信给张三发消息说明天开会，然后回到桌面"); err != nil {
			b.Fatal(err)
		}
	}
}

func readXML(b *testing.B, name string) []byte {
	data, err := os.ReadFile("testdata/" + name + ".xml")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParseXML is the hand-written scanner the planner uses.
func BenchmarkParseXML(b *testing.B) {
	s := string(readXML(b, "wechat_home"))
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := ParseXML(s); err != nil {
			b.Fatal(err)
		}
	}
}

// xnode is a uiautomator node for encoding/xml, for comparison only.
type xnode struct {
	Text       string  `xml:"text,attr"`
	ResourceID string  `xml:"resource-id,attr"`
	Class      string  `xml:"class,attr"`
	Package    string  `xml:"package,attr"`
	Desc       string  `xml:"content-desc,attr"`
	Checkable  bool    `xml:"checkable,attr"`
	Checked    bool    `xml:"checked,attr"`
	Clickable  bool    `xml:"clickable,attr"`
	Enabled    bool    `xml:"enabled,attr"`
	Focusable  bool    `xml:"focusable,attr"`
	Focused    bool    `xml:"focused,attr"`
	Scrollable bool    `xml:"scrollable,attr"`
	Selected   bool    `xml:"selected,attr"`
	Bounds     string  `xml:"bounds,attr"`
	Nodes      []xnode `xml:"node"`
}

// BenchmarkEncodingXML parses the same dump with encoding/xml into a tree,
// which is what the scanner replaces.
func BenchmarkEncodingXML(b *testing.B) {
	data := readXML(b, "wechat_home")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var h struct {
			Nodes []xnode `xml:"node"`
		}
		if err := xml.Unmarshal(data, &h); err != nil {
			b.Fatal(err)
		}
	}
}
