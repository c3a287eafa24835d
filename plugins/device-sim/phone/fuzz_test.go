package phone

import (
	"context"
	"encoding/xml"
	"io"
	"testing"
	"time"
)

// FuzzExec runs arbitrary command lines: the shell must never panic, and
// whatever they type, the UI dump must stay well-formed XML.
func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"echo hi", "echo 'a b' \"c d\" e\\ f > /sdcard/x; cat /sdcard/x", "false || true && echo $?",
		"input tap 540 1200", "input swipe 1 2 3 4 5000", "input text '%s%s'", "input keyevent KEYCODE_HOME 4 187",
		"monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1", "am start -n com.tencent.mm/.ui.LauncherUI",
		"ime set com.android.adbkeyboard/.AdbIME; input tap 540 1200; am broadcast -a ADB_INPUT_TEXT --es msg '<&\"\x01>'",
		"settings put global wifi_on 0", "dumpsys window | grep mCurrentFocus", "uiautomator dump /dev/tty",
		"sh -c 'sh -c \"echo deep\"'", "cat < /nope", "echo x 2>&1 >> /data/local/tmp/y", "|", "&&", "'", "\"", "$", "${",
		"echo ${HOME", "a\\", "2>", "input", "am broadcast -a ADB_INPUT_B64 --es msg !!!", "getprop | grep -c ro",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		p := New(Options{Width: 216, Height: 480})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		// Focus a text field so typed input lands somewhere visible.
		p.Exec(ctx, "monkey -p com.tencent.mm 1; input tap 60 130; input tap 100 440", nil, io.Discard, io.Discard)
		p.Exec(ctx, line, nil, io.Discard, io.Discard)
		p.Exec(ctx, "ime set com.android.adbkeyboard/.AdbIME", nil, io.Discard, io.Discard)
		p.Exec(ctx, "am broadcast -a ADB_INPUT_TEXT --es msg "+shellQuote(line), nil, io.Discard, io.Discard)
		var h hierarchy
		if err := xml.Unmarshal(p.DumpXML(), &h); err != nil {
			t.Fatalf("dump after %q is not XML: %v", line, err)
		}
		_ = p.State()
		if _, err := p.Screenshot(); err != nil {
			t.Fatalf("screenshot after %q: %v", line, err)
		}
	})
}

func shellQuote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, `'\''`...)
		} else {
			out = append(out, s[i])
		}
	}
	return string(append(out, '\''))
}
