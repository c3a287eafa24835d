package android

import (
	"strings"
	"testing"
	"unicode/utf8"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// FuzzParse feeds any device output to every parser: none may panic, and
// what they return must be sane. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("mCurrentFocus=Window{33990ba u0 com.tencent.mm/com.tencent.mm.ui.LauncherUI}\n")
	f.Add("Physical size: 1080x2400\nOverride size: 720x1600\n")
	f.Add("level: 85\nscale: 100\n")
	f.Fuzz(func(t *testing.T, s string) {
		if fc, ok := ParseFocus(s); ok && !ValidPackage(fc.Package) {
			t.Errorf("ParseFocus returned package %q", fc.Package)
		}
		if w, h, ok := ParseWMSize(s); ok && (w <= 0 || h <= 0) {
			t.Errorf("ParseWMSize returned %dx%d", w, h)
		}
		if b, ok := ParseBattery(s); ok && b.Level < 0 {
			t.Errorf("ParseBattery returned level %d", b.Level)
		}
		_, _ = ParsePower(s)
		_, _ = ParseIMEs(s)
		_, _ = hierarchy(s)
	})
}

// FuzzInputText: `input text` commands are single-quoted words that,
// unquoted and with %s read as a space, give back the text.
func FuzzInputText(f *testing.F) {
	f.Add("it's 50%s & $HOME")
	f.Add("a\nb")
	f.Fuzz(func(t *testing.T, s string) {
		cmds, err := Commands(&cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_TYPE, Text: s}, nil, TextInput)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, c := range cmds {
			if c == "input keyevent KEYCODE_ENTER" {
				b.WriteByte('\n')
				continue
			}
			arg, ok := strings.CutPrefix(c, "input text '")
			if !ok || !strings.HasSuffix(arg, "'") {
				t.Fatalf("command %q", c)
			}
			arg = strings.TrimSuffix(arg, "'")
			if strings.Contains(strings.ReplaceAll(arg, `'\''`, ""), "'") {
				t.Fatalf("unescaped quote in %q", c)
			}
			arg = strings.ReplaceAll(arg, `'\''`, "'")
			b.WriteString(strings.ReplaceAll(arg, "%s", " "))
		}
		if !utf8.ValidString(s) || b.String() != s {
			t.Errorf("%q typed as %q via %q", s, b.String(), cmds)
		}
	})
}
