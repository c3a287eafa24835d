package phone

import (
	"crypto/md5"
	"fmt"
	"sort"
	"strings"
)

func init() {
	commands["uname"] = cmdUname
	commands["pidof"] = cmdPidof
	commands["ps"] = cmdPs
	commands["which"] = cmdWhich
	commands["md5sum"] = cmdMd5sum
	commands["cmd"] = cmdCmd
}

func cmdUname(_ *shell, args []string, io stdio) int {
	if len(args) > 0 && strings.Contains(args[0], "a") {
		fmt.Fprintln(io.out, "Linux localhost 5.15.137-android14-11-g0a1b2c3d4e5f #1 SMP PREEMPT Mon Jan 5 00:00:00 UTC 2026 aarch64 Toybox")
		return 0
	}
	fmt.Fprintln(io.out, "Linux")
	return 0
}

// running returns the packages with live processes, sorted, and a stable
// pid for each. System processes always run.
func (p *Phone) running() ([]string, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pkgs := []string{"com.android.systemui", launcherPkg, strings.Split(p.w.get("secure", "default_input_method"), "/")[0]}
	for pkg, st := range p.w.tasks {
		if len(st) > 0 {
			pkgs = append(pkgs, pkg)
		}
	}
	sort.Strings(pkgs)
	pids := map[string]int{}
	for _, pkg := range pkgs {
		pids[pkg] = 1000 + hashN(pkg, 28000)
	}
	return pkgs, pids
}

func cmdPidof(sh *shell, args []string, io stdio) int {
	_, pids := sh.p.running()
	var out []string
	for _, a := range args {
		if pid, ok := pids[a]; ok {
			out = append(out, itoa(pid))
		}
	}
	if len(out) == 0 {
		return 1
	}
	fmt.Fprintln(io.out, strings.Join(out, " "))
	return 0
}

func cmdPs(sh *shell, _ []string, io stdio) int {
	pkgs, pids := sh.p.running()
	fmt.Fprintln(io.out, "USER            PID   PPID        VSZ    RSS WCHAN            ADDR S NAME")
	fmt.Fprintln(io.out, "root              1      0   10904260   4012 0                   0 S init")
	for _, pkg := range pkgs {
		fmt.Fprintf(io.out, "u0_a%-11d %5d    700   16321240 152340 0                   0 S %s\n", 100+hashN(pkg, 200), pids[pkg], pkg)
	}
	return 0
}

func cmdWhich(_ *shell, args []string, io stdio) int {
	code := 0
	for _, a := range args {
		if _, ok := commands[a]; ok && a != "cd" && a != ":" {
			fmt.Fprintln(io.out, "/system/bin/"+a)
		} else {
			code = 1
		}
	}
	return code
}

func cmdMd5sum(sh *shell, args []string, io stdio) int {
	code := 0
	for _, a := range args {
		data, err := sh.p.fs.ReadFile(a)
		if err != nil {
			fmt.Fprintf(io.err, "md5sum: %s: %s\n", a, errText(err))
			code = 1
			continue
		}
		fmt.Fprintf(io.out, "%x  %s\n", md5.Sum(data), a)
	}
	return code
}

// cmdCmd maps `cmd SERVICE ...` to the matching shell command, as the
// framework's command-line front ends share one implementation.
func cmdCmd(sh *shell, args []string, io stdio) int {
	if len(args) == 0 {
		fmt.Fprintln(io.err, "cmd: No service specified; use -l to list all running services. Use -w to start and wait for a service.")
		return 20
	}
	alias := map[string]string{"package": "pm", "activity": "am", "settings": "settings", "input_method": "ime",
		"window": "wm", "input": "input", "uimode": "", "statusbar": ""}
	name, ok := alias[args[0]]
	if !ok {
		fmt.Fprintf(io.err, "cmd: Can't find service: %s\n", args[0])
		return 20
	}
	if name == "" {
		return 0
	}
	return commands[name](sh, args[1:], io)
}
