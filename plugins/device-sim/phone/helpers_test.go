package phone

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"image"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// run executes cmd on p and returns stdout, stderr and the exit code.
func run(t testing.TB, p *Phone, cmd string) (string, string, int) {
	t.Helper()
	var o, e bytes.Buffer
	code := p.Exec(context.Background(), cmd, nil, &o, &e)
	return o.String(), e.String(), code
}

// must runs cmd and fails the test unless it exits 0.
func must(t testing.TB, p *Phone, cmd string) string {
	t.Helper()
	o, e, code := run(t, p, cmd)
	if code != 0 {
		t.Fatalf("%q: exit %d, stderr %q, stdout %q", cmd, code, e, o)
	}
	return o
}

// xnode is a uiautomator <node> as encoding/xml sees it.
type xnode struct {
	Index      string  `xml:"index,attr"`
	Text       string  `xml:"text,attr"`
	ResourceID string  `xml:"resource-id,attr"`
	Class      string  `xml:"class,attr"`
	Package    string  `xml:"package,attr"`
	Desc       string  `xml:"content-desc,attr"`
	Checkable  string  `xml:"checkable,attr"`
	Checked    string  `xml:"checked,attr"`
	Clickable  string  `xml:"clickable,attr"`
	Enabled    string  `xml:"enabled,attr"`
	Focused    string  `xml:"focused,attr"`
	Scrollable string  `xml:"scrollable,attr"`
	Bounds     string  `xml:"bounds,attr"`
	Nodes      []xnode `xml:"node"`
}

type hierarchy struct {
	XMLName  xml.Name `xml:"hierarchy"`
	Rotation string   `xml:"rotation,attr"`
	Nodes    []xnode  `xml:"node"`
}

var boundsRe = regexp.MustCompile(`^\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]$`)

func (n xnode) rect(t testing.TB) image.Rectangle {
	t.Helper()
	m := boundsRe.FindStringSubmatch(n.Bounds)
	if m == nil {
		t.Fatalf("bad bounds %q", n.Bounds)
	}
	v := make([]int, 4)
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return image.Rect(v[0], v[1], v[2], v[3])
}

func flatten(ns []xnode, out *[]xnode) {
	for _, n := range ns {
		*out = append(*out, n)
		flatten(n.Nodes, out)
	}
}

// dump runs `uiautomator dump`, pulls the file and parses it.
func dump(t testing.TB, p *Phone) []xnode {
	t.Helper()
	out := must(t, p, "uiautomator dump")
	if out != "UI hierchary dumped to: /sdcard/window_dump.xml\n" {
		t.Fatalf("uiautomator dump printed %q", out)
	}
	data, err := p.FS().ReadFile("/sdcard/window_dump.xml")
	if err != nil {
		t.Fatal(err)
	}
	var h hierarchy
	if err := xml.Unmarshal(data, &h); err != nil {
		t.Fatalf("parse dump: %v\n%s", err, data)
	}
	var all []xnode
	flatten(h.Nodes, &all)
	return all
}

// find returns the first node whose text or content-desc is s.
func find(t testing.TB, p *Phone, s string) (xnode, bool) {
	t.Helper()
	for _, n := range dump(t, p) {
		if n.Text == s || n.Desc == s || n.ResourceID == s {
			return n, true
		}
	}
	return xnode{}, false
}

// tap taps the centre of the element with text, content-desc or id s.
func tap(t testing.TB, p *Phone, s string) {
	t.Helper()
	n, ok := find(t, p, s)
	if !ok {
		t.Fatalf("no element %q on screen %s", s, p.State().Screen)
	}
	r := n.rect(t)
	must(t, p, fmt.Sprintf("input tap %d %d", (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2))
}

// typeADB types s through the ADB Keyboard, selecting it first.
func typeADB(t testing.TB, p *Phone, s string) {
	t.Helper()
	must(t, p, "ime set com.android.adbkeyboard/.AdbIME")
	must(t, p, "am broadcast -a ADB_INPUT_B64 --es msg "+base64.StdEncoding.EncodeToString([]byte(s)))
}

// currentApp mirrors Open-AutoGLM's get_current_app: the first line of
// `dumpsys window` mentioning mCurrentFocus or mFocusedApp names the app.
func currentApp(t testing.TB, p *Phone) string {
	t.Helper()
	out := must(t, p, "dumpsys window")
	apps := map[string]string{"微信": "com.tencent.mm", "淘宝": "com.taobao.taobao", "美团": "com.sankuai.meituan",
		"Settings": "com.android.settings", "高德地图": "com.autonavi.minimap"}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "mCurrentFocus") || strings.Contains(line, "mFocusedApp") {
			for name, pkg := range apps {
				if strings.Contains(line, pkg) {
					return name
				}
			}
		}
	}
	return "System Home"
}
