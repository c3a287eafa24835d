package phone

import (
	"fmt"
	"sort"
	"strings"
)

func cmdSettings(sh *shell, args []string, io stdio) int {
	usage := func() int {
		fmt.Fprintln(io.err, "usage:  settings [--user <USER_ID> | current] get namespace key\n        settings [--user <USER_ID> | current] put namespace key value\n        settings [--user <USER_ID> | current] delete namespace key\n        settings [--user <USER_ID> | current] list namespace\n\n'namespace' is one of {system, secure, global}, case-insensitive")
		return 1
	}
	if len(args) >= 2 && args[0] == "--user" {
		args = args[2:]
	}
	if len(args) < 2 {
		return usage()
	}
	verb, ns := args[0], strings.ToLower(args[1])
	if ns != "system" && ns != "secure" && ns != "global" {
		return usage()
	}
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.w
	switch {
	case verb == "get" && len(args) == 3:
		v, ok := w.settings[ns][args[2]]
		if !ok {
			v = "null"
		}
		fmt.Fprintln(io.out, v)
	case verb == "put" && len(args) >= 4:
		w.put(ns, args[2], args[3])
	case verb == "delete" && len(args) == 3:
		if _, ok := w.settings[ns][args[2]]; ok {
			delete(w.settings[ns], args[2])
			w.changed()
			fmt.Fprintln(io.out, "Deleted 1 rows")
		} else {
			fmt.Fprintln(io.out, "Deleted 0 rows")
		}
	case verb == "list" && len(args) == 2:
		keys := make([]string, 0, len(w.settings[ns]))
		for k := range w.settings[ns] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(io.out, "%s=%s\n", k, w.settings[ns][k])
		}
	default:
		return usage()
	}
	return 0
}

var allIMEs = []string{imeLatin, imeADB}

func imeKnown(id string) bool {
	for _, i := range allIMEs {
		if i == id {
			return true
		}
	}
	return false
}

func (w *world) imeEnabled(id string) bool {
	for _, e := range strings.Split(w.get("secure", "enabled_input_methods"), ":") {
		if e == id {
			return true
		}
	}
	return false
}

func cmdIme(sh *shell, args []string, io stdio) int {
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.w
	if len(args) == 0 {
		fmt.Fprintln(io.out, "ime <command>:\n  list [-a] [-s]\n  enable [--user <USER_ID>] <ID>\n  disable [--user <USER_ID>] <ID>\n  set [--user <USER_ID>] <ID>\n  reset [--user <USER_ID>]")
		return 0
	}
	id := ""
	if len(args) > 1 {
		id = args[len(args)-1]
	}
	switch args[0] {
	case "list":
		flags, _ := splitFlags(args[1:])
		for _, i := range allIMEs {
			if !strings.Contains(flags, "a") && !w.imeEnabled(i) {
				continue
			}
			if strings.Contains(flags, "s") {
				fmt.Fprintln(io.out, i)
				continue
			}
			pkg, cls, _ := strings.Cut(i, "/")
			fmt.Fprintf(io.out, "%s:\n  mId=%s mSettingsActivity=null mIsVrOnly=false mSupportsSwitchingToNextInputMethod=false\n  mIsDefaultResId=0x0\n  Service:\n    priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=false\n    ServiceInfo:\n      name=%s%s\n      packageName=%s\n      enabled=true exported=true directBootAware=false\n      permission=android.permission.BIND_INPUT_METHOD\n      flags=0x0\n", i, i, pkg, cls, pkg)
		}
	case "enable", "disable":
		if !imeKnown(id) {
			fmt.Fprintf(io.out, "Unknown input method %s cannot be enabled for user #0\n", id)
			return 255
		}
		on := args[0] == "enable"
		if w.imeEnabled(id) == on {
			fmt.Fprintf(io.out, "Input method %s: already %sd for user #0\n", id, args[0])
			return 0
		}
		var list []string
		for _, i := range allIMEs {
			if (i == id && on) || (i != id && w.imeEnabled(i)) {
				list = append(list, i)
			}
		}
		w.put("secure", "enabled_input_methods", strings.Join(list, ":"))
		if !on && w.get("secure", "default_input_method") == id {
			w.put("secure", "default_input_method", imeLatin)
		}
		fmt.Fprintf(io.out, "Input method %s: now %sd for user #0\n", id, args[0])
	case "set":
		if !imeKnown(id) || !w.imeEnabled(id) {
			fmt.Fprintf(io.err, "Unknown input method %s cannot be selected for user #0\n", id)
			return 255
		}
		w.put("secure", "default_input_method", id)
		fmt.Fprintf(io.out, "Input method %s selected for user #0\n", id)
	case "reset":
		w.put("secure", "default_input_method", imeLatin)
		fmt.Fprintf(io.out, "Reset current and enabled IMEs for user #0\n  Selected: %s\n", imeLatin)
	default:
		fmt.Fprintf(io.err, "Unknown command: %s\n", args[0])
		return 255
	}
	return 0
}

func cmdSvc(sh *shell, args []string, io stdio) int {
	if len(args) < 2 || (args[1] != "enable" && args[1] != "disable") {
		fmt.Fprintln(io.out, "Available commands:\n    wifi\n    bluetooth\n    data\n    power")
		return 0
	}
	key := map[string]string{"wifi": "wifi_on", "bluetooth": "bluetooth_on", "data": "mobile_data"}[args[0]]
	if key == "" {
		fmt.Fprintf(io.err, "Unknown command: %s\n", args[0])
		return 1
	}
	p := sh.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w.put("global", key, boolStr(args[1] == "enable"))
	return 0
}
