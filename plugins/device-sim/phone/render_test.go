package phone

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone/render"
)

func TestScreencapPNG(t *testing.T) {
	for _, size := range [][2]int{{1080, 2400}, {720, 1600}} {
		p := New(Options{Width: size[0], Height: size[1]})
		out := must(t, p, "screencap -p")
		img, err := png.Decode(bytes.NewReader([]byte(out)))
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size[0] || b.Dy() != size[1] {
			t.Fatalf("screencap is %v, want %v", b, size)
		}
		must(t, p, "screencap -p /sdcard/s.png")
		data, err := p.FS().ReadFile("/sdcard/s.png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChatScreenshot renders a chat with Chinese text; the file is kept for
// people to look at (set CLOUDPHONE_SHOT_DIR to choose where).
func TestChatScreenshot(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.tencent.mm 1")
	tap(t, p, "张三")
	tap(t, p, "com.tencent.mm:id/input")
	typeADB(t, p, "好的，三点会议室见！")
	tap(t, p, "发送")
	tap(t, p, "com.tencent.mm:id/input")
	must(t, p, "ime set com.android.inputmethod.latin/.LatinIME")
	must(t, p, "input text 'See%syou'")
	shot, err := p.Screenshot()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("CLOUDPHONE_SHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "cloudphone-wechat-chat.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (CJK font %q)", path, render.FontSource())
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// The sent bubble is WeChat green somewhere on the right.
	found := false
	for y := 300; y < 2000 && !found; y += 4 {
		r, g, b, _ := img.At(800, y).RGBA()
		found = r>>8 == 0x95 && g>>8 == 0xec && b>>8 == 0x69
	}
	if !found {
		t.Fatal("no green bubble in the chat screenshot")
	}
	again, _ := p.Screenshot()
	if &again[0] != &shot[0] {
		t.Error("unchanged screen was rendered twice")
	}
}

func TestScreensRender(t *testing.T) {
	p := New(Options{Width: 540, Height: 1200})
	for _, cmd := range []string{
		"monkey -p com.android.settings 1", "am start -n com.android.settings/.Settings\\$DisplaySettingsActivity",
		"monkey -p com.sankuai.meituan 1", "monkey -p com.taobao.taobao 1", "monkey -p com.autonavi.minimap 1",
		"monkey -p com.android.browser 1", "input keyevent 187", "input keyevent 26",
	} {
		must(t, p, cmd)
		if _, err := p.Screenshot(); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
}

func TestHugeTextStaysFast(t *testing.T) {
	p := New(Options{Width: 540, Height: 1200})
	must(t, p, "monkey -p com.tencent.mm 1")
	tap(t, p, "张三")
	tap(t, p, "com.tencent.mm:id/input")
	must(t, p, "ime set com.android.adbkeyboard/.AdbIME")
	huge := strings.Repeat("很长的消息 long message ", 20000) // ~400 KB
	must(t, p, "am broadcast -a ADB_INPUT_TEXT --es msg '"+huge+"'")
	start := time.Now()
	if _, err := p.Screenshot(); err != nil {
		t.Fatal(err)
	}
	tap(t, p, "发送")
	if _, err := p.Screenshot(); err != nil {
		t.Fatal(err)
	}
	dump(t, p)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("huge text took %v", d)
	}
}

func TestTinyScreens(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {7, 3}, {40, 2000}, {2000, 40}} {
		p := New(Options{Width: sz[0], Height: sz[1]})
		for _, cmd := range []string{"screencap -p", "monkey -p com.tencent.mm 1", "input tap 0 0", "screencap -p",
			"monkey -p com.autonavi.minimap 1", "screencap -p", "uiautomator dump", "input keyevent 187", "screencap -p"} {
			if _, e, code := run(t, p, cmd); code != 0 {
				t.Fatalf("%v %s: %d %s", sz, cmd, code, e)
			}
		}
	}
}
