package phone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// The shell understands the subset of mksh (Android's /system/bin/sh) that
// adb users type: words with '…', "…" and backslash quoting, $VAR and $?,
// lists joined by ; && || & and newlines, pipes, and the redirections
// > >> < 2> 2>> 2>&1 >&2. There are no loops, functions or globs.

// statusMark stands in for $? until the command runs.
const statusMark = "\uE000?"

type redir struct {
	fd     int    // 0, 1 or 2
	op     string // ">", ">>", "<", ">&"
	target string
}

type simpleCmd struct {
	args   []string
	redirs []redir
}

type pipeline []simpleCmd

type listItem struct {
	pipe pipeline
	op   string // how it joins the next item: ";", "&&" or "||"
}

var shellEnv = map[string]string{
	"HOME":             "/",
	"USER":             "shell",
	"LOGNAME":          "shell",
	"SHELL":            "/system/bin/sh",
	"PATH":             "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin",
	"EXTERNAL_STORAGE": "/sdcard",
	"ANDROID_DATA":     "/data",
	"ANDROID_ROOT":     "/system",
	"TMPDIR":           "/data/local/tmp",
	"HOSTNAME":         "localhost",
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "syntax error: " + e.msg }

type token struct {
	word string
	op   string // non-empty for operators
}

// tokenize splits a command line into words and operators.
func tokenize(line string) ([]token, error) {
	var toks []token
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, token{word: cur.String()})
			cur.Reset()
			inWord = false
		}
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\'':
			inWord = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, &syntaxError{"unterminated quoted string"}
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch {
				case rs[j] == '\\' && j+1 < len(rs) && strings.ContainsRune("\"\\$`\n", rs[j+1]):
					j++
					if rs[j] != '\n' {
						cur.WriteRune(rs[j])
					}
				case rs[j] == '$':
					j = expandVar(rs, j, &cur)
				default:
					cur.WriteRune(rs[j])
				}
			}
			if j >= len(rs) {
				return nil, &syntaxError{"unterminated quoted string"}
			}
			i = j
		case c == '\\':
			if i+1 < len(rs) {
				i++
				if rs[i] != '\n' {
					inWord = true
					cur.WriteRune(rs[i])
				}
			}
		case c == '$':
			inWord = true
			i = expandVar(rs, i, &cur)
		case c == '#' && !inWord:
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			i--
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		case c == '\n' || c == ';':
			flush()
			toks = append(toks, token{op: ";"})
		case c == '&' || c == '|':
			if i+1 < len(rs) && rs[i+1] == c {
				flush()
				toks = append(toks, token{op: string(c) + string(c)})
				i++
				continue
			}
			if c == '&' && len(toks) > 0 && strings.HasSuffix(toks[len(toks)-1].op, ">") && !inWord {
				toks[len(toks)-1].op += "&"
				continue
			}
			flush()
			if c == '&' {
				toks = append(toks, token{op: ";"})
			} else {
				toks = append(toks, token{op: "|"})
			}
		case c == '>' || c == '<':
			fd := ""
			if inWord && (cur.String() == "1" || cur.String() == "2" || cur.String() == "0") {
				fd = cur.String()
				cur.Reset()
				inWord = false
			}
			flush()
			op := string(c)
			if c == '>' && i+1 < len(rs) && rs[i+1] == '>' {
				op = ">>"
				i++
			}
			toks = append(toks, token{op: fd + op})
		default:
			inWord = true
			cur.WriteRune(c)
		}
	}
	flush()
	return toks, nil
}

// expandVar writes the value of the variable starting at rs[i] ('$') and
// returns the index of its last rune.
func expandVar(rs []rune, i int, out *strings.Builder) int {
	if i+1 >= len(rs) {
		out.WriteRune('$')
		return i
	}
	n := rs[i+1]
	switch {
	case n == '?':
		out.WriteString(statusMark)
		return i + 1
	case n == '{':
		j := i + 2
		for j < len(rs) && rs[j] != '}' {
			j++
		}
		if j >= len(rs) {
			out.WriteString(string(rs[i:]))
			return len(rs) - 1
		}
		out.WriteString(shellEnv[string(rs[i+2:j])])
		return j
	case n == '_' || (n >= 'A' && n <= 'Z') || (n >= 'a' && n <= 'z'):
		j := i + 1
		for j < len(rs) && (rs[j] == '_' || (rs[j] >= 'A' && rs[j] <= 'Z') || (rs[j] >= 'a' && rs[j] <= 'z') || (rs[j] >= '0' && rs[j] <= '9')) {
			j++
		}
		out.WriteString(shellEnv[string(rs[i+1:j])])
		return j - 1
	}
	out.WriteRune('$')
	return i
}

// parse turns a command line into a list of pipelines.
func parse(line string) ([]listItem, error) {
	toks, err := tokenize(line)
	if err != nil {
		return nil, err
	}
	var items []listItem
	var pipe pipeline
	var cmd simpleCmd
	endCmd := func(op string) error {
		if len(cmd.args) == 0 && len(cmd.redirs) == 0 {
			if op == ";" && len(pipe) == 0 {
				return nil // empty statement
			}
			return &syntaxError{fmt.Sprintf("'%s' unexpected", op)}
		}
		pipe = append(pipe, cmd)
		cmd = simpleCmd{}
		return nil
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.op {
		case "":
			cmd.args = append(cmd.args, t.word)
		case "|":
			if err := endCmd("|"); err != nil {
				return nil, err
			}
		case ";", "&&", "||":
			if err := endCmd(t.op); err != nil {
				return nil, err
			}
			if len(pipe) > 0 {
				items = append(items, listItem{pipe: pipe, op: t.op})
				pipe = nil
			}
		default: // redirection
			if i+1 >= len(toks) || toks[i+1].op != "" {
				return nil, &syntaxError{"unexpected end of redirection"}
			}
			r := redir{fd: 1, op: strings.TrimLeft(t.op, "012"), target: toks[i+1].word}
			if d := strings.TrimRight(t.op, "<>&"); d != "" {
				r.fd, _ = strconv.Atoi(d)
			} else if r.op == "<" {
				r.fd = 0
			}
			cmd.redirs = append(cmd.redirs, r)
			i++
		}
	}
	if len(cmd.args) > 0 || len(cmd.redirs) > 0 {
		pipe = append(pipe, cmd)
	} else if len(pipe) > 0 {
		return nil, &syntaxError{"unexpected end of file"}
	}
	if len(pipe) > 0 {
		items = append(items, listItem{pipe: pipe, op: ";"})
	} else if len(items) > 0 && items[len(items)-1].op != ";" {
		return nil, &syntaxError{"unexpected end of file"}
	}
	return items, nil
}

// shell runs one parsed command line for one Exec call.
type shell struct {
	p      *Phone
	ctx    context.Context
	status int
	depth  int
	exited bool // `exit` ran: the rest of the line is skipped
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func (sh *shell) runLine(line string, io stdio) (int, error) {
	items, err := parse(line)
	if err != nil {
		fmt.Fprintf(io.err, "/system/bin/sh: %v\n", err)
		return 1, nil
	}
	prevOp := ";"
	for _, it := range items {
		if sh.exited {
			break
		}
		skip := (prevOp == "&&" && sh.status != 0) || (prevOp == "||" && sh.status == 0)
		if !skip {
			code, err := sh.runPipe(it.pipe, io)
			if err != nil {
				return code, err
			}
			sh.status = code
		}
		prevOp = it.op
	}
	return sh.status, nil
}

func (sh *shell) runPipe(pipe pipeline, io stdio) (int, error) {
	in := io.in
	code := 0
	for i, c := range pipe {
		if sh.exited {
			break
		}
		cio := stdio{in: in, out: io.out, err: io.err}
		var buf *bytes.Buffer
		if i < len(pipe)-1 {
			buf = &bytes.Buffer{}
			cio.out = buf
		}
		var err error
		code, err = sh.runSimple(c, cio)
		if err != nil {
			return code, err
		}
		if buf != nil {
			in = buf
		}
	}
	return code, nil
}

func (sh *shell) runSimple(c simpleCmd, sio stdio) (int, error) {
	args := make([]string, len(c.args))
	st := strconv.Itoa(sh.status)
	for i, a := range c.args {
		args[i] = strings.ReplaceAll(a, statusMark, st)
	}
	fsys := sh.p.fs
	var pending []func() error // file writes after the command
	for _, r := range c.redirs {
		target := strings.ReplaceAll(r.target, statusMark, st)
		switch {
		case r.op == ">&":
			switch {
			case r.fd == 2 && target == "1":
				sio.err = sio.out
			case r.fd == 1 && target == "2":
				sio.out = sio.err
			}
		case r.op == "<":
			data, err := fsys.ReadFile(target)
			if err != nil {
				fmt.Fprintf(sio.err, "/system/bin/sh: can't open %s: %s\n", target, errText(err))
				return 1, nil
			}
			sio.in = bytes.NewReader(data)
		default:
			var w io.Writer
			switch target {
			case "/dev/null":
				w = io.Discard
			case "/dev/stdout", "/dev/tty":
				w = sio.out
			case "/dev/stderr":
				w = sio.err
			default:
				if err := checkCreate(fsys, target, r.op == ">>"); err != nil {
					fmt.Fprintf(sio.err, "/system/bin/sh: can't create %s: %s\n", target, errText(err))
					return 1, nil
				}
				buf := &bytes.Buffer{}
				w = buf
				appendTo := r.op == ">>"
				pending = append(pending, func() error {
					if appendTo {
						return fsys.AppendFile(target, buf.Bytes())
					}
					return fsys.write(target, buf.Bytes(), 0, false, false)
				})
			}
			if r.fd == 2 {
				sio.err = w
			} else {
				sio.out = w
			}
		}
	}
	if sio.in == nil {
		sio.in = strings.NewReader("")
	}
	var code int
	var err error
	if len(args) > 0 {
		code, err = sh.exec(args, sio)
	}
	for _, f := range pending {
		if werr := f(); werr != nil {
			fmt.Fprintf(sio.err, "/system/bin/sh: write: %s\n", errText(werr))
		}
	}
	return code, err
}

// checkCreate reports why target cannot be created, truncating it now
// unless appending, as the shell does before the command runs.
func checkCreate(fsys *FS, target string, appendTo bool) error {
	if appendTo {
		return fsys.AppendFile(target, nil)
	}
	return fsys.write(target, nil, 0, false, false)
}

// errText renders a file error the way toybox and mksh print them.
func errText(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && !strings.HasPrefix(Clean(pe.Path), "/data") {
			return "Read-only file system"
		}
		return "Permission denied"
	case errors.Is(err, fs.ErrExist):
		return "Directory not empty"
	case errors.Is(err, fs.ErrInvalid):
		return "Is a directory"
	}
	return err.Error()
}
