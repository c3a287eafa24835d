package main

import (
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// The action mapping is sdk/android's, shared with the adb, Docker and
// KVM backends: the simulator sends a phone exactly the commands a real
// backend sends, but runs them in process instead of over adb.

// adbIME is the ADB Keyboard, which Open-AutoGLM switches to before
// typing: `input text` cannot type Chinese.
const adbIME = android.ADBKeyboardIME

// Wait durations when the action does not say, and at most.
const (
	defaultWaitMs = android.DefaultWaitMs
	maxWaitMs     = android.MaxWaitMs
)

// actCommands maps a device-changing action to the shell commands a real
// adb backend sends, in order, with text through the ADB Keyboard (every
// simulated phone has it installed). Type's IME switch is not included:
// it depends on the phone's current IME (see sim.Act). Wait, take_over
// and note have no commands.
func actCommands(a *cpv1.Action, w, h int) ([]string, error) {
	return android.Commands(a, &cpv1.ScreenSize{Width: int32(w), Height: int32(h)}, android.TextADBKeyboard)
}
