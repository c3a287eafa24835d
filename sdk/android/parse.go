package android

import (
	"strconv"
	"strings"
)

// Focus is the foreground window as `dumpsys window` reports it.
type Focus struct {
	// Package is the focused app's package, "com.tencent.mm".
	Package string
	// Activity is its activity as printed, ".ui.LauncherUI" or a full
	// class name; empty when the focused window is not an activity's.
	Activity string
}

// ParseFocus finds the foreground app in `dumpsys window` output (or
// only its mCurrentFocus and mFocusedApp lines). mCurrentFocus wins when
// it names an app window ("Window{8c1f u0 com.tencent.mm/.ui.LauncherUI}");
// otherwise (a system window such as StatusBar or a dialog, or null) the
// mFocusedApp line's ActivityRecord gives the app. ok is false when
// neither names a package.
func ParseFocus(out string) (f Focus, ok bool) {
	var app Focus
	var appOK bool
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "mCurrentFocus="):
			if c, ok := lastComponent(line); ok {
				return c, true
			}
		case strings.HasPrefix(line, "mFocusedApp=") && !appOK:
			app, appOK = lastComponent(line)
		}
	}
	return app, appOK
}

// lastComponent finds the last "pkg/activity" word in a dumpsys line.
func lastComponent(line string) (Focus, bool) {
	words := strings.FieldsFunc(line, func(r rune) bool {
		return r == ' ' || r == '{' || r == '}' || r == '=' || r == '\t'
	})
	for i := len(words) - 1; i >= 0; i-- {
		pkg, act, found := strings.Cut(words[i], "/")
		if !found || !ValidPackage(pkg) || !strings.Contains(pkg, ".") {
			continue
		}
		return Focus{Package: pkg, Activity: act}, true
	}
	return Focus{}, false
}

// ParseWMSize reads `wm size`: "Physical size: 1080x2400", and an
// "Override size: 720x1600" line that wins when present (apps and input
// use the override).
func ParseWMSize(out string) (w, h int, ok bool) {
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		label, val, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		label = strings.ToLower(strings.TrimSpace(label))
		if label != "physical size" && label != "override size" {
			continue
		}
		ws, hs, found := strings.Cut(strings.TrimSpace(val), "x")
		if !found {
			continue
		}
		pw, err1 := strconv.Atoi(ws)
		ph, err2 := strconv.Atoi(hs)
		if err1 != nil || err2 != nil || pw <= 0 || ph <= 0 || pw > 1<<16 || ph > 1<<16 {
			continue
		}
		if label == "override size" || !ok {
			w, h, ok = pw, ph, true
		}
	}
	return w, h, ok
}

// Battery is what `dumpsys battery` reports.
type Battery struct {
	// Level is the charge in percent of Scale (usually 100); -1 when
	// unknown.
	Level int
	Scale int
	// Status is BatteryManager's status: 2 charging, 3 discharging, 5
	// full; 0 when unknown.
	Status int
	// Powered is true when AC, USB, wireless or dock power is connected.
	Powered bool
	// Present is false for devices without a battery (most emulators
	// report true anyway).
	Present bool
	// TemperatureC is in degrees Celsius (dumpsys reports tenths).
	TemperatureC float64
}

// Percent returns the level in percent, or -1 when unknown.
func (b Battery) Percent() int {
	if b.Level < 0 {
		return -1
	}
	if b.Scale <= 0 || b.Scale == 100 {
		return b.Level
	}
	return b.Level * 100 / b.Scale
}

// ParseBattery reads `dumpsys battery`. ok is false when no level line
// was found.
func ParseBattery(out string) (b Battery, ok bool) {
	b = Battery{Level: -1, Scale: 100}
	for line := range strings.Lines(out) {
		k, v, found := strings.Cut(strings.TrimSpace(line), ":")
		if !found {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		n, nerr := strconv.Atoi(v)
		switch k {
		case "level":
			if nerr == nil && n >= 0 {
				b.Level, ok = n, true
			}
		case "scale":
			if nerr == nil && n > 0 {
				b.Scale = n
			}
		case "status":
			if nerr == nil {
				b.Status = n
			}
		case "ac powered", "usb powered", "wireless powered", "dock powered":
			b.Powered = b.Powered || v == "true"
		case "present":
			b.Present = v == "true"
		case "temperature":
			if nerr == nil {
				b.TemperatureC = float64(n) / 10
			}
		}
	}
	return b, ok
}

// Power is the screen state from `dumpsys power`.
type Power struct {
	// Wakefulness is "Awake", "Asleep", "Dozing" or "Dreaming".
	Wakefulness string
	// ScreenOn is true when the device is awake, or when the display
	// power state is ON.
	ScreenOn bool
}

// ParsePower reads `dumpsys power` (or its mWakefulness= and "Display
// Power: state=" lines). Older Androids print mScreenOn=true instead.
// ok is false when none of those was found.
func ParsePower(out string) (p Power, ok bool) {
	display := ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "mWakefulness="):
			p.Wakefulness = strings.TrimSpace(strings.TrimPrefix(line, "mWakefulness="))
			ok = true
		case strings.HasPrefix(line, "Display Power: state="):
			display = strings.TrimSpace(strings.TrimPrefix(line, "Display Power: state="))
			ok = true
		case strings.HasPrefix(line, "mScreenOn="):
			if p.Wakefulness == "" {
				if strings.HasPrefix(strings.TrimPrefix(line, "mScreenOn="), "true") {
					p.Wakefulness = "Awake"
				} else {
					p.Wakefulness = "Asleep"
				}
			}
			ok = true
		}
	}
	p.ScreenOn = p.Wakefulness == "Awake" || (display != "" && display == "ON")
	return p, ok
}

// ParseIMEs reads the output of `settings get secure
// default_input_method` followed by `ime list -a -s`: the current IME on
// the first line, then every installed one.
func ParseIMEs(out string) (current string, installed []string) {
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if i == 0 {
			if line != "null" {
				current = line
			}
			continue
		}
		if line != "" && strings.Contains(line, "/") && !strings.ContainsAny(line, " \t") {
			installed = append(installed, line)
		}
	}
	return current, installed
}
