package phone

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// intent is the part of an am/monkey command line the simulator uses.
type intent struct {
	action, data, comp, pkg string
	cats                    []string
	extras                  map[string]string
	wait, stop              bool
}

func parseIntent(args []string) intent {
	in := intent{extras: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch a {
		case "-a":
			in.action = next()
		case "-d":
			in.data = next()
		case "-n":
			in.comp = next()
		case "-p":
			in.pkg = next()
		case "-c":
			in.cats = append(in.cats, next())
		case "-W":
			in.wait = true
		case "-S":
			in.stop = true
		case "-f", "--user", "-t", "--activity-brought-to-front", "--display":
			if a != "--activity-brought-to-front" {
				next()
			}
		case "--es", "--ei", "--ez", "--el", "--ef", "--eu", "--esa", "--eia":
			k := next()
			in.extras[k] = next()
		default:
			if !strings.HasPrefix(a, "-") && in.data == "" && in.comp == "" {
				in.data = a
			}
		}
	}
	return in
}

func (in intent) String() string {
	var parts []string
	if in.action != "" {
		parts = append(parts, "act="+in.action)
	}
	if len(in.cats) > 0 {
		parts = append(parts, "cat=["+strings.Join(in.cats, ",")+"]")
	}
	if in.data != "" {
		parts = append(parts, "dat="+in.data)
	}
	if in.comp != "" {
		parts = append(parts, "cmp="+in.comp)
	}
	if in.pkg != "" {
		parts = append(parts, "pkg="+in.pkg)
	}
	if len(in.extras) > 0 {
		parts = append(parts, "(has extras)")
	}
	return "Intent { " + strings.Join(parts, " ") + " }"
}

// resolve maps a component ("pkg/.Act" or "pkg/pkg.Act") to a screen kind.
func resolve(comp string) (pkg, kind string) {
	pkg, cls, ok := strings.Cut(comp, "/")
	if !ok {
		return pkg, ""
	}
	if strings.HasPrefix(cls, pkg+".") {
		cls = cls[len(pkg):]
	}
	if a := appByPkg(pkg); a != nil && screenKinds[a.main].activity == cls {
		return pkg, a.main
	}
	for k, sk := range screenKinds {
		if sk.pkg == pkg && sk.activity == cls {
			return pkg, k
		}
	}
	return pkg, ""
}

var actionScreens = map[string]string{
	"android.settings.SETTINGS":               "settings.home",
	"android.settings.WIFI_SETTINGS":          "settings.home",
	"android.settings.BLUETOOTH_SETTINGS":     "settings.home",
	"android.settings.AIRPLANE_MODE_SETTINGS": "settings.home",
	"android.settings.DISPLAY_SETTINGS":       "settings.display",
	"android.settings.DEVICE_INFO_SETTINGS":   "settings.about",
}

func cmdAm(sh *shell, args []string, io stdio) int {
	if len(args) == 0 {
		fmt.Fprintln(io.out, "Activity manager (activity) commands:\n  start [-W] [-S] [-n COMPONENT] [-a ACTION] ...\n  force-stop PACKAGE\n  broadcast [-a ACTION] [--es KEY VALUE] ...")
		return 0
	}
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.w
	switch args[0] {
	case "start", "start-activity":
		in := parseIntent(args[1:])
		fmt.Fprintf(io.out, "Starting: %s\n", in)
		kind, pkg := "", ""
		switch {
		case in.comp != "":
			pkg, kind = resolve(in.comp)
		case in.action == "android.intent.action.MAIN" && contains(in.cats, "android.intent.category.HOME"):
			w.goHome()
			return 0
		case in.action == "android.intent.action.VIEW" && strings.HasPrefix(in.data, "http"):
			pkg, kind = "com.android.browser", "browser.page"
		case actionScreens[in.action] != "":
			kind = actionScreens[in.action]
			pkg = screenKinds[kind].pkg
		case in.pkg != "" && appByPkg(in.pkg) != nil:
			pkg, kind = in.pkg, appByPkg(in.pkg).main
		}
		if kind == "" {
			fmt.Fprintln(io.err, "Error type 3")
			if in.comp != "" {
				pkg, cls, _ := strings.Cut(in.comp, "/")
				if strings.HasPrefix(cls, ".") {
					cls = pkg + cls
				}
				fmt.Fprintf(io.err, "Error: Activity class {%s/%s} does not exist.\n", pkg, cls)
			} else {
				fmt.Fprintf(io.err, "Error: Activity not started, unable to resolve %s\n", in)
			}
			return 1
		}
		if in.stop {
			w.forceStop(pkg)
		}
		top := w.fg == pkg && w.cur().kind == kind
		if appByPkg(pkg) != nil && appByPkg(pkg).main == kind {
			w.launch(pkg)
		} else {
			w.launch(pkg)
			if w.cur().kind != kind {
				w.push(kind, in.data)
			}
		}
		if top {
			fmt.Fprintln(io.out, "Warning: Activity not started, intent has been delivered to currently running top-most instance.")
		}
		if in.wait {
			act := screenKinds[kind].activity
			fmt.Fprintf(io.out, "Status: ok\nLaunchState: COLD\nActivity: %s/%s\nTotalTime: 312\nWaitTime: 318\nComplete\n", pkg, act)
		}
	case "force-stop", "kill":
		if len(args) > 1 {
			w.forceStop(args[len(args)-1])
		}
	case "broadcast":
		in := parseIntent(args[1:])
		fmt.Fprintf(io.out, "Broadcasting: %s\n", broadcastIntent(in))
		p.broadcast(in)
		fmt.Fprintln(io.out, "Broadcast completed: result=0")
	case "stack", "task":
		fmt.Fprintln(io.out, "Stack id=1 bounds=[0,0][1080,2400] displayId=0 userId=0")
	default:
		fmt.Fprintf(io.err, "Error: unknown command '%s'\n", args[0])
		return 255
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// broadcast delivers ADB Keyboard intents. Like the real ADB Keyboard, its
// receiver only exists while it is the current input method, and it types
// into the focused field only; otherwise the broadcast reaches nobody.
func (p *Phone) broadcast(in intent) {
	w := p.w
	if w.get("secure", "default_input_method") != imeADB || p.booting() {
		return
	}
	s := w.cur()
	if s.focus == "" {
		return
	}
	// Typing through the IME shows it, as focusing the field did.
	switch in.action {
	case "ADB_INPUT_TEXT":
		w.typeText(in.extras["msg"])
	case "ADB_INPUT_B64":
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(in.extras["msg"]))
		if err != nil {
			return // the real receiver logs and drops a bad payload
		}
		w.typeText(string(data))
	case "ADB_INPUT_CHARS":
		var b strings.Builder
		for _, c := range strings.Split(in.extras["chars"], ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(c)); err == nil && n > 0 && n < 0x110000 {
				b.WriteRune(rune(n))
			}
		}
		w.typeText(b.String())
	case "ADB_CLEAR_TEXT":
		w.clearText()
	case "ADB_INPUT_CODE":
		if n, err := strconv.Atoi(in.extras["code"]); err == nil {
			p.key(n, false)
		}
	case "ADB_EDITOR_CODE":
		f := p.build()
		w.imeAction(f.actions, s)
	}
}

func cmdMonkey(sh *shell, args []string, io stdio) int {
	for _, a := range args {
		fmt.Fprintf(io.out, "  bash arg: %s\n", a)
	}
	var pkgs []string
	count := -1
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-p" && i+1 < len(args):
			i++
			pkgs = append(pkgs, args[i])
		case (a == "-c" || a == "-s" || a == "--throttle" || strings.HasPrefix(a, "--pct-")) && i+1 < len(args):
			i++
		case strings.HasPrefix(a, "-"):
		default:
			n, err := strconv.Atoi(a)
			if err != nil {
				fmt.Fprintf(io.err, "** Error: Invalid argument: %s\n", a)
				return 1
			}
			count = n
		}
	}
	if count < 0 {
		fmt.Fprintln(io.err, "** Error: Count not specified")
		fmt.Fprintln(io.err, "usage: monkey [-p ALLOWED_PACKAGE [-p ALLOWED_PACKAGE] ...] [-c MAIN_CATEGORY] COUNT")
		return 1
	}
	fmt.Fprintf(io.out, "args: [%s]\n", strings.Join(args, ", "))
	for _, a := range args {
		fmt.Fprintf(io.out, " arg: %q\n", a)
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			if _, err := strconv.Atoi(a); err != nil {
				fmt.Fprintf(io.out, "data=%q\n", a)
			}
		}
	}
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var target string
	for _, pkg := range pkgs {
		if appByPkg(pkg) != nil {
			target = pkg
			break
		}
	}
	if target == "" {
		fmt.Fprintln(io.err, "** No activities found to run, monkey aborted.")
		return 252
	}
	if count > 0 {
		p.w.launch(target)
	}
	fmt.Fprintf(io.out, "Events injected: %d\n", count)
	fmt.Fprintln(io.out, "## Network stats: elapsed time=21ms (0ms mobile, 0ms wifi, 21ms not connected)")
	return 0
}

// broadcastIntent formats in as `am broadcast` echoes it, with the
// FLAG_RECEIVER_INCLUDE_BACKGROUND flag am adds.
func broadcastIntent(in intent) string {
	s := in.String()
	if strings.HasSuffix(s, " (has extras) }") {
		return strings.TrimSuffix(s, " (has extras) }") + " flg=0x400000 (has extras) }"
	}
	return strings.TrimSuffix(s, " }") + " flg=0x400000 }"
}
