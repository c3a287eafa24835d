package adbd

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxLine bounds one interactive command line.
const maxLine = 4096

// runCommand runs cmd through the Handler, or an interactive session when
// cmd is empty (`adb shell` with no command).
func runCommand(ctx context.Context, h Handler, cmd string, stdin io.Reader, stdout, stderr io.Writer, pty bool, prompt string) int {
	if strings.TrimSpace(cmd) != "" {
		return h.Shell(ctx, cmd, stdin, stdout, stderr)
	}
	return interactive(ctx, h, stdin, stdout, stderr, pty, prompt)
}

// interactive is a minimal /system/bin/sh session: it reads command lines
// and runs each through Handler.Shell with an empty stdin. With a PTY it
// prints a prompt and acts as the terminal's line discipline (echo,
// backspace, ^C, ^D), since adb puts the host terminal in raw mode; without
// one it reads lines silently, as sh reading a pipe does. "exit [N]" ends
// it; the status is N or the last command's.
func interactive(ctx context.Context, h Handler, stdin io.Reader, stdout, stderr io.Writer, pty bool, prompt string) int {
	status := 0
	run := func(line string) (int, bool) {
		line = strings.TrimSpace(line)
		if line == "exit" || strings.HasPrefix(line, "exit ") {
			if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "exit"))); err == nil {
				status = n
			}
			return status, true
		}
		if line != "" {
			status = h.Shell(ctx, line, strings.NewReader(""), stdout, stderr)
		}
		return status, false
	}
	if !pty {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 256), maxLine)
		for sc.Scan() {
			if code, done := run(sc.Text()); done {
				return code
			}
			if ctx.Err() != nil {
				break
			}
		}
		return status
	}
	echo := func(s string) { _, _ = io.WriteString(stdout, s) }
	echo(prompt)
	br := bufio.NewReader(stdin)
	var line []byte
	skip := 0 // bytes of an escape sequence still to drop
	for {
		c, err := br.ReadByte()
		if err != nil || ctx.Err() != nil {
			return status
		}
		if skip > 0 {
			skip--
			continue
		}
		switch {
		case c == '\r' || c == '\n':
			echo("\n")
			code, done := run(string(line))
			if done {
				return code
			}
			line = line[:0]
			echo(prompt)
		case c == 0x7f || c == 0x08:
			if len(line) > 0 {
				_, size := utf8.DecodeLastRune(line)
				line = line[:len(line)-size]
				echo("\b \b")
			}
		case c == 0x03: // ^C
			echo("^C\n")
			line = line[:0]
			echo(prompt)
		case c == 0x04: // ^D
			if len(line) == 0 {
				return status
			}
		case c == 0x1b: // arrow keys and friends: ESC [ X
			skip = 2
		case c >= 0x20 && len(line) < maxLine:
			line = append(line, c)
			_, _ = stdout.Write([]byte{c})
		}
	}
}
