package adbd

import (
	"bufio"
	"bytes"
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
	return ptySession(ctx, h, stdin, stdout, stderr, prompt)
}

// ptySession is the PTY half of interactive. Keystrokes are read by a
// goroutine so that ^C can cancel a running command (its ctx ends); other
// typeahead during a command is dropped.
func ptySession(ctx context.Context, h Handler, stdin io.Reader, stdout, stderr io.Writer, prompt string) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan []byte)
	go func() {
		defer close(keys)
		for {
			buf := make([]byte, 256)
			n, err := stdin.Read(buf)
			if n > 0 {
				select {
				case keys <- buf[:n]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	echo := func(s string) { _, _ = io.WriteString(stdout, s) }
	status := 0
	// run executes one line; ^C while it runs (in the typeahead rest or in
	// later keystrokes) cancels it. It returns the typeahead still to
	// process.
	run := func(line string, rest []byte) (_ []byte, done bool) {
		line = strings.TrimSpace(line)
		if line == "exit" || strings.HasPrefix(line, "exit ") {
			if n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "exit"))); err == nil {
				status = n
			}
			return nil, true
		}
		if line == "" {
			return rest, false
		}
		cctx, ccancel := context.WithCancel(ctx)
		defer ccancel()
		result := make(chan int, 1)
		go func() { result <- h.Shell(cctx, line, strings.NewReader(""), stdout, stderr) }()
		if i := bytes.IndexByte(rest, 0x03); i >= 0 {
			echo("^C\n")
			ccancel()
			rest = rest[i+1:]
		}
		for {
			select {
			case status = <-result:
				return rest, false
			case b, ok := <-keys:
				if !ok {
					keys = nil // stdin closed: let the command finish
					continue
				}
				if bytes.IndexByte(b, 0x03) >= 0 {
					echo("^C\n")
					ccancel()
				}
			}
		}
	}
	echo(prompt)
	var line []byte
	skip := 0 // bytes of an escape sequence still to drop
	for {
		var chunk []byte
		select {
		case b, ok := <-keys:
			if !ok {
				return status
			}
			chunk = b
		case <-ctx.Done():
			return status
		}
		for len(chunk) > 0 {
			c := chunk[0]
			chunk = chunk[1:]
			if skip > 0 {
				skip--
				continue
			}
			switch {
			case c == '\r' || c == '\n':
				echo("\n")
				var done bool
				if chunk, done = run(string(line), chunk); done {
					return status
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
}
