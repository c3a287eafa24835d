package cluster

import (
	"regexp"
	"testing"
)

// subjectToken is what NATS accepts as one subject token and as a key part.
var subjectToken = regexp.MustCompile(`^[-_=A-Za-z0-9]+$`)

func TestToken(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"t_01HXYZ", "t_01HXYZ"},
		{"default", "default"},
		{"adb/192.168.1.5:5555", "=YWRiLzE5Mi4xNjguMS41OjU1NTU"},
		{"a.b", "=YS5i"},
		{"", "="},
		{"=x", "=PXg"},
		{"*", "=Kg"},
	} {
		if got := token(tc.in); got != tc.want {
			t.Errorf("token(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := untoken(token(tc.in))
		if err != nil || back != tc.in {
			t.Errorf("untoken(token(%q)) = %q, %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{"", "a.b", "=!!"} {
		if _, err := untoken(bad); err == nil {
			t.Errorf("untoken(%q) accepted", bad)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "abc", "adb/10.0.0.1:5555", "a.b.>", "=", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := token(s)
		if !subjectToken.MatchString(tok) {
			t.Fatalf("token(%q) = %q is not a valid subject token", s, tok)
		}
		back, err := untoken(tok)
		if err != nil || back != s {
			t.Fatalf("untoken(%q) = %q, %v; want %q", tok, back, err, s)
		}
		// untoken must never panic on arbitrary input.
		_, _ = untoken(s)
	})
}
