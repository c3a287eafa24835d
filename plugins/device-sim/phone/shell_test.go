package phone

import (
	"context"
	"strings"
	"testing"
)

func TestShellCommands(t *testing.T) {
	tests := []struct {
		cmd     string
		stdout  string // exact unless contains is set
		stderr  string
		code    int
		contain bool
	}{
		{cmd: "true"},
		{cmd: "false", code: 1},
		{cmd: "frobnicate --x", stderr: "/system/bin/sh: frobnicate: not found\n", code: 127},
		{cmd: "echo hello world", stdout: "hello world\n"},
		{cmd: "echo -n hi", stdout: "hi"},
		{cmd: `echo 'a  b' "c\"d" e\ f`, stdout: "a  b c\"d e f\n"},
		{cmd: "echo $HOME $USER", stdout: "/ shell\n"},
		{cmd: "false; echo $?", stdout: "1\n"},
		{cmd: "true && echo yes", stdout: "yes\n"},
		{cmd: "false && echo yes", code: 1},
		{cmd: "false || echo no", stdout: "no\n"},
		{cmd: "echo a; echo b", stdout: "a\nb\n"},
		{cmd: "echo x > /sdcard/t.txt && cat /sdcard/t.txt", stdout: "x\n"},
		{cmd: "echo 1 > /data/local/tmp/n; echo 2 >> /data/local/tmp/n; cat /data/local/tmp/n", stdout: "1\n2\n"},
		{cmd: "echo x > /system/x", stderr: "/system/bin/sh: can't create /system/x: Read-only file system\n", code: 1},
		{cmd: "echo x > /sdcard/nodir/x", stderr: "/system/bin/sh: can't create /sdcard/nodir/x: No such file or directory\n", code: 1},
		{cmd: "cat /sdcard/missing", stderr: "cat: /sdcard/missing: No such file or directory\n", code: 1},
		{cmd: "cat /sdcard/missing 2>&1", stdout: "cat: /sdcard/missing: No such file or directory\n", code: 1},
		{cmd: "cat /sdcard/missing 2>/dev/null", code: 1},
		{cmd: "echo hi | cat", stdout: "hi\n"},
		{cmd: "dumpsys window | grep mCurrentFocus", stdout: "mCurrentFocus=Window{", contain: true},
		{cmd: "echo abc | grep zzz", code: 1},
		{cmd: "echo 'unterminated", stderr: "/system/bin/sh: syntax error: unterminated quoted string\n", code: 1},
		{cmd: "; ;", code: 0},
		{cmd: "&& echo x", stderr: "/system/bin/sh: syntax error: '&&' unexpected\n", code: 1},
		{cmd: "sh -c 'echo inner; exit 3'", stdout: "inner\n", code: 3},
		{cmd: "/system/bin/echo abs", stdout: "abs\n"},
		{cmd: "id", stdout: "uid=2000(shell) gid=2000(shell)", contain: true},
		{cmd: "whoami", stdout: "shell\n"},
		{cmd: "wm size", stdout: "Physical size: 1080x2400\n"},
		{cmd: "wm density", stdout: "Physical density: 440\n"},
		{cmd: "getprop ro.product.model", stdout: "CloudPhone 1\n"},
		{cmd: "getprop ro.build.version.sdk", stdout: "34\n"},
		{cmd: "getprop ro.build.version.release", stdout: "14\n"},
		{cmd: "getprop sys.boot_completed", stdout: "1\n"},
		{cmd: "getprop ro.serialno", stdout: "cloudphone-0001\n"},
		{cmd: "getprop no.such.prop", stdout: "\n"},
		{cmd: "getprop", stdout: "[ro.product.model]: [CloudPhone 1]\n", contain: true},
		{cmd: "pm list packages", stdout: "package:com.tencent.mm\n", contain: true},
		{cmd: "pm list packages -3 taobao", stdout: "package:com.taobao.taobao\n"},
		{cmd: "pm path com.nope", code: 1},
		{cmd: "settings get global wifi_on", stdout: "1\n"},
		{cmd: "settings get system no_such_key", stdout: "null\n"},
		{cmd: "settings put global bluetooth_on 1; settings get global bluetooth_on", stdout: "1\n"},
		{cmd: "settings get secure default_input_method", stdout: "com.android.inputmethod.latin/.LatinIME\n"},
		{cmd: "settings get bogus x", stderr: "usage:", contain: true, code: 1},
		{cmd: "ime list -s", stdout: "com.android.inputmethod.latin/.LatinIME\ncom.android.adbkeyboard/.AdbIME\n"},
		{cmd: "ime set com.android.adbkeyboard/.AdbIME", stdout: "Input method com.android.adbkeyboard/.AdbIME selected for user #0\n"},
		{cmd: "ime set com.nope/.X", stderr: "Unknown input method com.nope/.X cannot be selected for user #0\n", code: 255},
		{cmd: "dumpsys battery", stdout: "  level: 85\n", contain: true},
		{cmd: "dumpsys power", stdout: "mWakefulness=Awake", contain: true},
		{cmd: "ls /sdcard", stdout: "Alarms\nAndroid\nDCIM\nDocuments\nDownload\n", contain: true},
		{cmd: "ls /nope", stderr: "ls: /nope: No such file or directory\n", code: 1},
		{cmd: "mkdir /sdcard/d && touch /sdcard/d/f && ls /sdcard/d", stdout: "f\n"},
		{cmd: "mkdir /sdcard/Download", stderr: "mkdir: '/sdcard/Download': File exists\n", code: 1},
		{cmd: "rm /sdcard/nope", stderr: "rm: /sdcard/nope: No such file or directory\n", code: 1},
		{cmd: "rm -f /sdcard/nope"},
		{cmd: "rm /sdcard/Download", stderr: "rm: /sdcard/Download: is a directory\n", code: 1},
		{cmd: "sleep 0"},
		{cmd: "date", stdout: "Thu Jan 15 09:41:00 CST 2026\n"},
		{cmd: "input", stderr: "Usage: input", contain: true, code: 1},
		{cmd: "input keyevent KEYCODE_NOPE", stderr: "Error: Unknown keycode KEYCODE_NOPE\n", code: 1},
		{cmd: "am force-stop com.tencent.mm"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			p := New(Options{})
			o, e, code := run(t, p, tc.cmd)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stdout %q stderr %q)", code, tc.code, o, e)
			}
			check := func(what, got, want string) {
				if tc.contain {
					if want != "" && !strings.Contains(got, want) {
						t.Errorf("%s %q does not contain %q", what, got, want)
					}
				} else if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			check("stdout", o, tc.stdout)
			check("stderr", e, tc.stderr)
		})
	}
}

func TestBannerAndState(t *testing.T) {
	p := New(Options{Serial: "sim-7", Model: "Pixel 8"})
	b := p.Banner()
	if b["ro.product.model"] != "Pixel 8" || b["ro.product.device"] != "pixel_8" || b["ro.product.name"] == "" {
		t.Fatalf("banner %v", b)
	}
	out := must(t, p, "cloudphone-state")
	if !strings.Contains(out, `"serial": "sim-7"`) || !strings.Contains(out, `"current_app": "com.android.launcher3"`) {
		t.Fatalf("state %s", out)
	}
	st := p.State()
	st.WeChat.Chats[0].Messages[0].Text = "mutated"
	if p.State().WeChat.Chats[0].Messages[0].Text == "mutated" {
		t.Fatal("State shares memory with the phone")
	}
}

func TestInteractiveShell(t *testing.T) {
	p := New(Options{})
	var out, errb strings.Builder
	code, err := p.Shell(context.Background(), strings.NewReader("echo one\nfalse\nexit 4\necho never\n"), &out, &errb)
	if err != nil || code != 4 {
		t.Fatalf("shell: %d %v", code, err)
	}
	want := "cloudphone_1:/ $ one\ncloudphone_1:/ $ cloudphone_1:/ $ "
	if out.String() != want {
		t.Fatalf("transcript %q, want %q", out.String(), want)
	}
	if o, _, code := run(t, p, "exit 2; echo after"); code != 2 || o != "" {
		t.Fatalf("exit did not stop the line: %d %q", code, o)
	}
}

func TestScreencapRaw(t *testing.T) {
	p := New(Options{Width: 216, Height: 480})
	out := must(t, p, "screencap")
	if len(out) != 16+216*480*4 || out[0] != 216 || out[4] != 0xe0 || out[5] != 1 || out[8] != 1 {
		t.Fatalf("raw screencap: %d bytes, header % x", len(out), out[:16])
	}
	must(t, p, "screencap /sdcard/by-name.png")
	if data, _ := p.FS().ReadFile("/sdcard/by-name.png"); len(data) < 8 || string(data[1:4]) != "PNG" {
		t.Fatal("screencap FILE.png did not write a PNG")
	}
}

func TestMiscCommands(t *testing.T) {
	p := New(Options{})
	must(t, p, "monkey -p com.tencent.mm 1")
	if o := must(t, p, "pidof com.tencent.mm"); o == "" {
		t.Fatal("pidof printed nothing for a running app")
	}
	if _, _, code := run(t, p, "pidof com.taobao.taobao"); code != 1 {
		t.Fatal("pidof found an app that is not running")
	}
	if o := must(t, p, "ps -A | grep com.tencent.mm"); !strings.HasSuffix(o, " com.tencent.mm\n") {
		t.Fatalf("ps: %q", o)
	}
	if o := must(t, p, "cmd package list packages -3 mm"); o != "package:com.tencent.mm\n" {
		t.Fatalf("cmd package: %q", o)
	}
	if o := must(t, p, "echo -n abc > /sdcard/a && md5sum /sdcard/a"); o != "900150983cd24fb0d6963f7d28e17f72  /sdcard/a\n" {
		t.Fatalf("md5sum: %q", o)
	}
	if o := must(t, p, "which input"); o != "/system/bin/input\n" {
		t.Fatalf("which: %q", o)
	}
}
