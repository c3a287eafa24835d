package phone

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

func (p *Phone) props() map[string]string {
	d := p.device()
	m := map[string]string{
		"ro.product.model":                p.opts.Model,
		"ro.product.name":                 d,
		"ro.product.device":               d,
		"ro.product.brand":                p.opts.Manufacturer,
		"ro.product.manufacturer":         p.opts.Manufacturer,
		"ro.product.board":                "sim",
		"ro.product.cpu.abi":              "arm64-v8a",
		"ro.product.cpu.abilist":          "arm64-v8a,armeabi-v7a,armeabi",
		"ro.product.locale":               "zh-CN",
		"ro.build.version.release":        "14",
		"ro.build.version.sdk":            "34",
		"ro.build.version.security_patch": "2026-01-05",
		"ro.build.id":                     "UQ1A.240105.004",
		"ro.build.type":                   "user",
		"ro.build.tags":                   "release-keys",
		"ro.build.display.id":             "UQ1A.240105.004 release-keys",
		"ro.build.fingerprint":            p.opts.Manufacturer + "/" + d + "/" + d + ":14/UQ1A.240105.004/11206848:user/release-keys",
		"ro.serialno":                     p.opts.Serial,
		"ro.boot.serialno":                p.opts.Serial,
		"ro.sf.lcd_density":               strconv.Itoa(p.opts.Density),
		"ro.hardware":                     "cloudphone",
		"ro.debuggable":                   "0",
		"ro.secure":                       "1",
		"persist.sys.timezone":            "Asia/Shanghai",
		"persist.sys.locale":              "zh-CN",
		"persist.sys.usb.config":          "adb",
		"sys.usb.state":                   "adb",
		"init.svc.adbd":                   "running",
		"sys.boot_completed":              "1",
		"dev.bootcomplete":                "1",
		"init.svc.bootanim":               "stopped",
		"gsm.operator.alpha":              "中国移动",
		"wifi.interface":                  "wlan0",
	}
	p.mu.Lock()
	if p.booting() {
		delete(m, "sys.boot_completed")
		delete(m, "dev.bootcomplete")
		m["init.svc.bootanim"] = "running"
	}
	p.mu.Unlock()
	return m
}

func cmdGetprop(sh *shell, args []string, io stdio) int {
	props := sh.p.props()
	if len(args) > 0 {
		v, ok := props[args[0]]
		if !ok && len(args) > 1 {
			v = args[1]
		}
		fmt.Fprintln(io.out, v)
		return 0
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(io.out, "[%s]: [%s]\n", k, props[k])
	}
	return 0
}

func cmdWm(sh *shell, args []string, io stdio) int {
	if len(args) == 0 {
		fmt.Fprintln(io.err, "Window manager (window) commands:\n  size [reset|WxH|WdpxHdp]\n  density [reset|DENSITY]")
		return 0
	}
	switch args[0] {
	case "size":
		if len(args) == 1 {
			fmt.Fprintf(io.out, "Physical size: %dx%d\n", sh.p.opts.Width, sh.p.opts.Height)
			return 0
		}
	case "density":
		if len(args) == 1 {
			fmt.Fprintf(io.out, "Physical density: %d\n", sh.p.opts.Density)
			return 0
		}
	}
	fmt.Fprintf(io.err, "Error: changing %s is not supported by this simulated phone\n", args[0])
	return 255
}

func cmdPm(sh *shell, args []string, io stdio) int {
	if len(args) >= 2 && args[0] == "list" && args[1] == "packages" {
		flags, rest := splitFlags(args[2:])
		var pkgs []string
		if !strings.Contains(flags, "s") {
			for _, a := range launcherApps {
				if a.pkg != "com.android.settings" && a.pkg != "com.android.browser" {
					pkgs = append(pkgs, a.pkg)
				}
			}
		}
		if !strings.Contains(flags, "3") {
			pkgs = append(pkgs, systemPackages...)
			pkgs = append(pkgs, "com.android.settings", "com.android.browser")
		}
		sort.Strings(pkgs)
		for _, p := range pkgs {
			if len(rest) > 0 && !strings.Contains(p, rest[0]) {
				continue
			}
			if strings.Contains(flags, "f") {
				fmt.Fprintf(io.out, "package:%s=%s\n", apkPath(p), p)
			} else {
				fmt.Fprintf(io.out, "package:%s\n", p)
			}
		}
		return 0
	}
	if len(args) == 2 && args[0] == "path" {
		if installed(args[1]) {
			fmt.Fprintf(io.out, "package:%s\n", apkPath(args[1]))
			return 0
		}
		return 1
	}
	fmt.Fprintln(io.err, "usage: pm list packages [-f] [-s] [-3] [FILTER]\n       pm path PACKAGE")
	return 1
}

func apkPath(pkg string) string {
	if appByPkg(pkg) != nil && pkg != "com.android.settings" && pkg != "com.android.browser" {
		return "/data/app/~~" + strconv.Itoa(len(pkg)*7919) + "==/" + pkg + "-1/base.apk"
	}
	return path.Join("/system/priv-app", pkg, pkg+".apk")
}

func installed(pkg string) bool {
	if appByPkg(pkg) != nil {
		return true
	}
	for _, p := range systemPackages {
		if p == pkg {
			return true
		}
	}
	return false
}
