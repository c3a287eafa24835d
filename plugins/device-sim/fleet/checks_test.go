package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
)

// driver is one way to reach a phone: Debian's adb binary, sdk/adb
// directly, or sdk/adb through the adb server.
type driver interface {
	// shell runs cmd and returns stdout and the exit status.
	shell(t *testing.T, cmd string) (string, int)
	execOut(t *testing.T, cmd string) []byte
	push(t *testing.T, data []byte, remote string)
	pull(t *testing.T, remote string) []byte
}

// binDriver drives a phone with `adb -s SERIAL …`, one process per
// command.
type binDriver struct {
	s      *adbServer
	serial string
}

func (d binDriver) shell(t *testing.T, cmd string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := d.s.Command(ctx, "-s", d.serial, "shell", cmd)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		if c.ProcessState == nil {
			t.Fatalf("adb shell %q: %v", cmd, err)
		}
	}
	return stdout.String(), c.ProcessState.ExitCode()
}

func (d binDriver) execOut(t *testing.T, cmd string) []byte {
	t.Helper()
	return d.s.output(t, "-s", d.serial, "exec-out", cmd)
}

func (d binDriver) push(t *testing.T, data []byte, remote string) {
	t.Helper()
	local := filepath.Join(t.TempDir(), "push.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := d.s.Run(t, "-s", d.serial, "push", local, remote); code != 0 {
		t.Fatalf("adb push: exit %d: %s", code, out)
	}
}

func (d binDriver) pull(t *testing.T, remote string) []byte {
	t.Helper()
	local := filepath.Join(t.TempDir(), "pulled")
	if out, code := d.s.Run(t, "-s", d.serial, "pull", remote, local); code != 0 {
		t.Fatalf("adb pull %s: exit %d: %s", remote, code, out)
	}
	b, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdkDriver drives a phone through sdk/adb (a *adb.Conn or an
// *adb.ServerDevice).
type sdkDriver struct{ d adb.Device }

func ctx30() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (d sdkDriver) shell(t *testing.T, cmd string) (string, int) {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	out, _, code, err := d.d.Shell(ctx, cmd)
	if err != nil {
		t.Fatalf("shell %q: %v", cmd, err)
	}
	return string(out), code
}

func (d sdkDriver) execOut(t *testing.T, cmd string) []byte {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	out, err := d.d.ExecOut(ctx, cmd)
	if err != nil {
		t.Fatalf("exec-out %q: %v", cmd, err)
	}
	return out
}

func (d sdkDriver) push(t *testing.T, data []byte, remote string) {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	if err := d.d.Push(ctx, bytes.NewReader(data), remote, 0o644, time.Now()); err != nil {
		t.Fatalf("push %s: %v", remote, err)
	}
}

func (d sdkDriver) pull(t *testing.T, remote string) []byte {
	t.Helper()
	ctx, cancel := ctx30()
	defer cancel()
	var b bytes.Buffer
	if err := d.d.Pull(ctx, remote, &b); err != nil {
		t.Fatalf("pull %s: %v", remote, err)
	}
	return b.Bytes()
}

// must runs cmd and fails unless it exits 0.
func must(t *testing.T, d driver, cmd string) string {
	t.Helper()
	out, code := d.shell(t, cmd)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", cmd, code, out)
	}
	return out
}

// uiNode is a uiautomator <node>.
type uiNode struct {
	Text       string   `xml:"text,attr"`
	ResourceID string   `xml:"resource-id,attr"`
	Package    string   `xml:"package,attr"`
	Desc       string   `xml:"content-desc,attr"`
	Bounds     string   `xml:"bounds,attr"`
	Nodes      []uiNode `xml:"node"`
}

// parseDump parses a uiautomator dump and returns its nodes, flattened.
func parseDump(t *testing.T, data []byte) []uiNode {
	t.Helper()
	var h struct {
		XMLName xml.Name `xml:"hierarchy"`
		Nodes   []uiNode `xml:"node"`
	}
	if err := xml.Unmarshal(data, &h); err != nil {
		t.Fatalf("dump is not valid XML: %v\n%.300s", err, data)
	}
	var out []uiNode
	var walk func([]uiNode)
	walk = func(ns []uiNode) {
		for _, n := range ns {
			out = append(out, n)
			walk(n.Nodes)
		}
	}
	walk(h.Nodes)
	return out
}

var boundsRE = regexp.MustCompile(`^\[(\d+),(\d+)\]\[(\d+),(\d+)\]$`)

// center finds the node whose text or resource-id is key and returns the
// centre of its bounds.
func center(t *testing.T, nodes []uiNode, key string) (int, int) {
	t.Helper()
	for _, n := range nodes {
		if n.Text != key && n.ResourceID != key {
			continue
		}
		m := boundsRE.FindStringSubmatch(n.Bounds)
		if m == nil {
			t.Fatalf("node %q has bounds %q", key, n.Bounds)
		}
		v := make([]int, 4)
		for i := range v {
			v[i], _ = strconv.Atoi(m[i+1])
		}
		return (v[0] + v[2]) / 2, (v[1] + v[3]) / 2
	}
	t.Fatalf("no node %q in the dump", key)
	return 0, 0
}

// dump runs `uiautomator dump` and pulls the file, as scripts do.
func dump(t *testing.T, d driver) []uiNode {
	t.Helper()
	out := must(t, d, "uiautomator dump /sdcard/window_dump.xml")
	if !strings.Contains(out, "dumped to: /sdcard/window_dump.xml") {
		t.Fatalf("uiautomator dump said %q", out)
	}
	return parseDump(t, d.pull(t, "/sdcard/window_dump.xml"))
}

var focusRE = regexp.MustCompile(`mCurrentFocus=Window\{[0-9a-f]+ u0 ([^/ }]+)`)

// focused returns the package `dumpsys window` names in mCurrentFocus.
func focused(t *testing.T, d driver) string {
	t.Helper()
	out := must(t, d, "dumpsys window")
	m := focusRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no mCurrentFocus line in dumpsys window:\n%.500s", out)
	}
	return m[1]
}

func state(t *testing.T, d driver) phone.State {
	t.Helper()
	var st phone.State
	if err := json.Unmarshal([]byte(must(t, d, "cloudphone-state")), &st); err != nil {
		t.Fatalf("cloudphone-state: %v", err)
	}
	return st
}

// checkPNG decodes a PNG and checks its size.
func checkPNG(t *testing.T, data []byte, w, h int) {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG (%d bytes): %v", len(data), err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Fatalf("PNG is %dx%d, want %dx%d", cfg.Width, cfg.Height, w, h)
	}
}

// checkPhone runs the checks on a fresh phone through d. They
// share the phone, so they run in order.
func checkPhone(t *testing.T, d driver, w, h int) {
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"wm size", func(t *testing.T) {
			if out := must(t, d, "wm size"); strings.TrimSpace(out) != fmt.Sprintf("Physical size: %dx%d", w, h) {
				t.Fatalf("wm size: %q", out)
			}
		}},
		{"exec-out screencap", func(t *testing.T) { checkPNG(t, d.execOut(t, "screencap -p"), w, h) }},
		{"screencap file and pull", func(t *testing.T) {
			must(t, d, "screencap -p /sdcard/s.png")
			checkPNG(t, d.pull(t, "/sdcard/s.png"), w, h)
		}},
		{"uiautomator dump and pull", func(t *testing.T) {
			nodes := dump(t, d)
			for _, app := range []string{"微信", "淘宝", "美团", "设置"} {
				center(t, nodes, app)
			}
		}},
		{"tap app icon", func(t *testing.T) {
			x, y := center(t, dump(t, d), "微信")
			must(t, d, fmt.Sprintf("input tap %d %d", x, y))
			if got := focused(t, d); got != "com.tencent.mm" {
				t.Fatalf("after tapping 微信, dumpsys window names %q", got)
			}
		}},
		{"keyevent back and home", func(t *testing.T) {
			must(t, d, "input keyevent 4")
			if got := focused(t, d); got != "com.android.launcher3" {
				t.Fatalf("after back, focus on %q", got)
			}
			must(t, d, "monkey -p com.android.settings -c android.intent.category.LAUNCHER 1")
			must(t, d, "input keyevent KEYCODE_HOME")
			if got := focused(t, d); got != "com.android.launcher3" {
				t.Fatalf("after home, focus on %q", got)
			}
		}},
		{"monkey launches", func(t *testing.T) {
			out := must(t, d, "monkey -p com.sankuai.meituan -c android.intent.category.LAUNCHER 1")
			if !strings.Contains(out, "Events injected: 1") {
				t.Errorf("monkey said %q", out)
			}
			if got := focused(t, d); got != "com.sankuai.meituan" {
				t.Fatalf("after monkey, focus on %q", got)
			}
		}},
		{"ADB_INPUT_B64 types Chinese", func(t *testing.T) {
			x, y := center(t, dump(t, d), "com.sankuai.meituan:id/search_box")
			must(t, d, fmt.Sprintf("input tap %d %d", x, y))
			must(t, d, "ime set com.android.adbkeyboard/.AdbIME")
			msg := base64.StdEncoding.EncodeToString([]byte("咖啡"))
			if out := must(t, d, "am broadcast -a ADB_INPUT_B64 --es msg "+msg); !strings.Contains(out, "Broadcast completed") {
				t.Errorf("am broadcast said %q", out)
			}
			st := state(t, d)
			if st.Keyboard.Text != "咖啡" || st.Keyboard.Focused != "com.sankuai.meituan:id/search_edit" {
				t.Fatalf("keyboard state after typing: %+v", st.Keyboard)
			}
			must(t, d, "am broadcast -a ADB_CLEAR_TEXT")
			if st := state(t, d); st.Keyboard.Text != "" {
				t.Fatalf("after ADB_CLEAR_TEXT the field holds %q", st.Keyboard.Text)
			}
		}},
		{"push pull 3 MiB", func(t *testing.T) {
			data := make([]byte, 3<<20)
			_, _ = rand.Read(data)
			d.push(t, data, "/sdcard/Download/big.bin")
			if got := d.pull(t, "/sdcard/Download/big.bin"); !bytes.Equal(got, data) {
				t.Fatalf("pulled %d bytes, not the %d pushed", len(got), len(data))
			}
			if out := must(t, d, "ls -l /sdcard/Download/big.bin"); !strings.Contains(out, strconv.Itoa(3<<20)) {
				t.Errorf("ls -l: %q", out)
			}
		}},
		{"exit codes", func(t *testing.T) {
			if _, code := d.shell(t, "false"); code != 1 {
				t.Errorf("false: exit %d, want 1", code)
			}
			if _, code := d.shell(t, "no-such-command"); code != 127 {
				t.Errorf("unknown command: exit %d, want 127", code)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			return
		}
	}
}
