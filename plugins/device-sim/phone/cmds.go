package phone

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type command func(sh *shell, args []string, io stdio) int

// commands is filled by init functions; it cannot be a plain initialiser
// because commands such as sh refer back to it.
var commands = map[string]command{}

func init() {
	for name, c := range map[string]command{
		"true":             func(*shell, []string, stdio) int { return 0 },
		"false":            func(*shell, []string, stdio) int { return 1 },
		":":                func(*shell, []string, stdio) int { return 0 },
		"echo":             cmdEcho,
		"ls":               cmdLs,
		"cat":              cmdCat,
		"rm":               cmdRm,
		"mkdir":            cmdMkdir,
		"touch":            cmdTouch,
		"sleep":            cmdSleep,
		"id":               cmdID,
		"whoami":           func(_ *shell, _ []string, io stdio) int { fmt.Fprintln(io.out, "shell"); return 0 },
		"pwd":              func(_ *shell, _ []string, io stdio) int { fmt.Fprintln(io.out, "/"); return 0 },
		"cd":               func(*shell, []string, stdio) int { return 0 },
		"exit":             cmdExit,
		"sh":               cmdSh,
		"grep":             cmdGrep,
		"date":             cmdDate,
		"getprop":          cmdGetprop,
		"wm":               cmdWm,
		"pm":               cmdPm,
		"settings":         cmdSettings,
		"ime":              cmdIme,
		"svc":              cmdSvc,
		"input":            cmdInput,
		"am":               cmdAm,
		"monkey":           cmdMonkey,
		"dumpsys":          cmdDumpsys,
		"screencap":        cmdScreencap,
		"uiautomator":      cmdUiautomator,
		"cloudphone-state": cmdState,
	} {
		commands[name] = c
	}
}

// needsSystem lists commands that talk to system services, which are not
// up while the phone boots.
var needsSystem = map[string]string{
	"input": "input", "am": "Activity Manager", "monkey": "Activity Manager", "pm": "Package Manager",
	"settings": "settings provider", "ime": "input method manager", "uiautomator": "UiAutomation",
	"dumpsys": "service manager", "wm": "window manager", "svc": "service manager",
}

func (sh *shell) exec(args []string, io stdio) (int, error) {
	name := args[0]
	for _, dir := range []string{"/system/bin/", "/system/xbin/", "/vendor/bin/", "/bin/"} {
		name = strings.TrimPrefix(name, dir)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(io.err, "/system/bin/sh: %s: not found\n", args[0])
		return 127, nil
	}
	if err := delay(sh.ctx, sh.p.opts.Profile.latency(name)); err != nil {
		return ExitCanceled, err
	}
	if svc, ok := needsSystem[name]; ok {
		sh.p.mu.Lock()
		booting := sh.p.booting()
		sh.p.mu.Unlock()
		if booting {
			fmt.Fprintf(io.err, "Error: Could not access the %s.  Is the system running?\n", svc)
			return 1, nil
		}
	}
	code := cmd(sh, args[1:], io)
	if err := sh.ctx.Err(); err != nil {
		return ExitCanceled, fmt.Errorf("run %s: %w", name, err)
	}
	return code, nil
}

// splitFlags separates leading -x flags from operands.
func splitFlags(args []string) (flags string, rest []string) {
	for i, a := range args {
		if a == "--" {
			return flags, args[i+1:]
		}
		if len(a) < 2 || a[0] != '-' {
			return flags, args[i:]
		}
		flags += a[1:]
	}
	return flags, nil
}

func cmdEcho(_ *shell, args []string, io stdio) int {
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	fmt.Fprint(io.out, strings.Join(args, " "))
	if nl {
		fmt.Fprintln(io.out)
	}
	return 0
}

func cmdLs(sh *shell, args []string, io stdio) int {
	flags, paths := splitFlags(args)
	long := strings.Contains(flags, "l")
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	code := 0
	for i, p := range paths {
		fi, err := sh.p.fs.Stat(p)
		if err != nil {
			fmt.Fprintf(io.err, "ls: %s: %s\n", p, errText(err))
			code = 1
			continue
		}
		if !fi.IsDir() || strings.Contains(flags, "d") {
			fi.Name = p
			lsLine(io.out, fi, long)
			continue
		}
		if len(paths) > 1 {
			if i > 0 {
				fmt.Fprintln(io.out)
			}
			fmt.Fprintf(io.out, "%s:\n", p)
		}
		list, _ := sh.p.fs.List(p)
		if long {
			fmt.Fprintf(io.out, "total %d\n", len(list)*8)
		}
		for _, e := range list {
			lsLine(io.out, e, long)
		}
	}
	return code
}

func lsLine(w io.Writer, fi FileInfo, long bool) {
	if !long {
		fmt.Fprintln(w, fi.Name)
		return
	}
	size := fi.Size
	if fi.IsDir() {
		size = 3452
	}
	fmt.Fprintf(w, "%s 2 u0_a128 media_rw %8d %s %s\n", lsMode(fi), size, fi.ModTime.Format("2006-01-02 15:04"), fi.Name)
}

func lsMode(fi FileInfo) string {
	s := fi.Mode.String() // e.g. drwxrwx--x
	if strings.HasPrefix(s, "d") || strings.HasPrefix(s, "-") {
		return s
	}
	return "-" + s[1:]
}

func cmdCat(sh *shell, args []string, io stdio) int {
	_, paths := splitFlags(args)
	if len(paths) == 0 {
		_, _ = copyOut(io.out, io.in)
		return 0
	}
	code := 0
	for _, p := range paths {
		data, err := sh.p.fs.ReadFile(p)
		if err != nil {
			fmt.Fprintf(io.err, "cat: %s: %s\n", p, errText(err))
			code = 1
			continue
		}
		_, _ = io.out.Write(data)
	}
	return code
}

func copyOut(w io.Writer, r io.Reader) (int64, error) {
	n, err := bufio.NewReader(r).WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("copy: %w", err)
	}
	return n, nil
}

func cmdRm(sh *shell, args []string, io stdio) int {
	flags, paths := splitFlags(args)
	force := strings.Contains(flags, "f")
	rec := strings.ContainsAny(flags, "rR")
	if len(paths) == 0 && !force {
		fmt.Fprintln(io.err, "rm: Needs 1 argument (see \"rm --help\")")
		return 1
	}
	code := 0
	for _, p := range paths {
		fi, err := sh.p.fs.Stat(p)
		if err == nil && fi.IsDir() && !rec {
			fmt.Fprintf(io.err, "rm: %s: is a directory\n", p)
			code = 1
			continue
		}
		if err == nil {
			err = sh.p.fs.Remove(p, rec)
		}
		if err != nil && !(force && strings.Contains(errText(err), "No such")) {
			fmt.Fprintf(io.err, "rm: %s: %s\n", p, errText(err))
			code = 1
		}
	}
	return code
}

func cmdMkdir(sh *shell, args []string, io stdio) int {
	flags, paths := splitFlags(args)
	code := 0
	for _, p := range paths {
		var err error
		if strings.Contains(flags, "p") {
			err = sh.p.fs.MkdirAll(p)
		} else {
			err = sh.p.fs.Mkdir(p)
		}
		if err != nil {
			msg := errText(err)
			if msg == "Directory not empty" {
				msg = "File exists"
			}
			fmt.Fprintf(io.err, "mkdir: '%s': %s\n", p, msg)
			code = 1
		}
	}
	return code
}

func cmdTouch(sh *shell, args []string, io stdio) int {
	_, paths := splitFlags(args)
	code := 0
	for _, p := range paths {
		if err := sh.p.fs.Touch(p); err != nil {
			fmt.Fprintf(io.err, "touch: '%s': %s\n", p, errText(err))
			code = 1
		}
	}
	return code
}

func cmdSleep(sh *shell, args []string, io stdio) int {
	if len(args) == 0 {
		fmt.Fprintln(io.err, "sleep: Needs 1 argument (see \"sleep --help\")")
		return 1
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(args[0], "s"), 64)
	if err != nil || f < 0 {
		fmt.Fprintf(io.err, "sleep: invalid number '%s'\n", args[0])
		return 1
	}
	if delay(sh.ctx, time.Duration(f*float64(time.Second))) != nil {
		return 130
	}
	return 0
}

func cmdID(_ *shell, _ []string, io stdio) int {
	fmt.Fprintln(io.out, "uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0")
	return 0
}

func cmdExit(sh *shell, args []string, _ stdio) int {
	sh.exited = true
	if len(args) > 0 {
		if n, err := strconv.Atoi(args[0]); err == nil {
			return n & 0xff
		}
	}
	return sh.status
}

func cmdSh(sh *shell, args []string, io stdio) int {
	if len(args) >= 2 && args[0] == "-c" {
		if sh.depth > 8 {
			fmt.Fprintln(io.err, "/system/bin/sh: too deeply nested")
			return 1
		}
		sub := &shell{p: sh.p, ctx: sh.ctx, depth: sh.depth + 1}
		code, _ := sub.runLine(args[1], io)
		return code
	}
	if len(args) == 0 {
		return 0 // an interactive shell on empty stdin exits at once
	}
	data, err := sh.p.fs.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(io.err, "/system/bin/sh: %s: No such file or directory\n", args[0])
		return 127
	}
	sub := &shell{p: sh.p, ctx: sh.ctx, depth: sh.depth + 1}
	code, _ := sub.runLine(string(data), io)
	return code
}

func cmdGrep(sh *shell, args []string, io stdio) int {
	flags, rest := splitFlags(args)
	if len(rest) == 0 {
		fmt.Fprintln(io.err, "grep: Needs 1 argument (see \"grep --help\")")
		return 2
	}
	pat := rest[0]
	if strings.Contains(flags, "F") {
		pat = regexp.QuoteMeta(pat)
	}
	if strings.Contains(flags, "i") {
		pat = "(?i)" + pat
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		re = regexp.MustCompile(regexp.QuoteMeta(rest[0]))
	}
	var input []byte
	if len(rest) > 1 {
		for _, p := range rest[1:] {
			data, err := sh.p.fs.ReadFile(p)
			if err != nil {
				fmt.Fprintf(io.err, "grep: %s: %s\n", p, errText(err))
				continue
			}
			input = append(input, data...)
		}
	} else {
		b, _ := readAllLimit(io.in, 64<<20)
		input = b
	}
	invert, count := strings.Contains(flags, "v"), strings.Contains(flags, "c")
	n := 0
	for _, line := range strings.SplitAfter(string(input), "\n") {
		if line == "" {
			continue
		}
		if re.MatchString(strings.TrimSuffix(line, "\n")) != invert {
			n++
			if !count {
				fmt.Fprint(io.out, strings.TrimSuffix(line, "\n")+"\n")
			}
		}
	}
	if count {
		fmt.Fprintln(io.out, n)
	}
	if n == 0 {
		return 1
	}
	return 0
}

func readAllLimit(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return b, fmt.Errorf("read stdin: %w", err)
	}
	return b, nil
}

func cmdDate(sh *shell, _ []string, io stdio) int {
	fmt.Fprintln(io.out, sh.p.clock().Format("Mon Jan _2 15:04:05 MST 2006"))
	return 0
}

func cmdState(sh *shell, _ []string, io stdio) int {
	data, err := json.MarshalIndent(sh.p.State(), "", "  ")
	if err != nil {
		fmt.Fprintf(io.err, "cloudphone-state: %v\n", err)
		return 1
	}
	fmt.Fprintf(io.out, "%s\n", data)
	return 0
}
