package adb_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

func TestInteractiveShell(t *testing.T) {
	_, c := newDevice(t)
	ctx := ctxT(t)
	var out bytes.Buffer
	code, err := c.RunShell(ctx, "", strings.NewReader("echo a\n\nfalse\necho b\nexit 5\necho never\n"), &out, nil)
	if err != nil || code != 5 || out.String() != "a\nb\n" {
		t.Fatalf("raw interactive: %q %d %v", out.String(), code, err)
	}
	// A PTY session: the device echoes keystrokes, prompts, and turns
	// "\n" into "\r\n".
	st, err := c.OpenStream(ctx, "shell,v2,pty:")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	w := wire.NewShellWriter(st, 0)
	if err := w.WriteFrame(wire.ShellStdin, []byte("echo hx\x7fi\rexit 7\r")); err != nil {
		t.Fatal(err)
	}
	rd := wire.NewShellReader(st, 0)
	var got []byte
	for {
		id, data, err := rd.Next()
		if err != nil {
			t.Fatalf("pty: %v after %q", err, got)
		}
		if id == wire.ShellExit {
			if data[0] != 7 {
				t.Fatalf("pty exit %d", data[0])
			}
			break
		}
		got = append(got, data...)
	}
	want := "testdev:/ $ echo hx\b \bi\r\nhi\r\ntestdev:/ $ exit 7\r\n"
	if string(got) != want {
		t.Fatalf("pty transcript %q, want %q", got, want)
	}

	// ^C cancels a running command; typeahead after it still runs.
	st2, err := c.OpenStream(ctx, "shell,v2,pty:")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st2.Close() }()
	if err := wire.NewShellWriter(st2, 0).WriteFrame(wire.ShellStdin, []byte("sleep\r\x03exit 4\r")); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	rd = wire.NewShellReader(st2, 0)
	for {
		id, data, err := rd.Next()
		if err != nil {
			t.Fatalf("pty ^C: %v after %q", err, got)
		}
		if id == wire.ShellExit {
			if data[0] != 4 {
				t.Fatalf("pty ^C exit %d", data[0])
			}
			break
		}
		got = append(got, data...)
	}
	want = "testdev:/ $ sleep\r\n^C\r\ntestdev:/ $ exit 4\r\n"
	if string(got) != want {
		t.Fatalf("pty transcript %q, want %q", got, want)
	}
}
