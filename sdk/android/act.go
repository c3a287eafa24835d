package android

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// imeQueryCmd prints the current IME, then every installed one.
const imeQueryCmd = "settings get secure default_input_method; ime list -a -s"

// Act performs a normalized action on dev: the commands of Commands, run
// in order, each as its own stream. screen is the device's size, used to
// refuse points off the screen (nil skips that check). Type first makes
// sure the ADB Keyboard is the current IME when it is installed
// (`ime enable`, `ime set`, as Open-AutoGLM does; it stays selected
// afterwards) and otherwise falls back to `input text`, which refuses
// non-ASCII text with ErrNonASCII. Wait sleeps for the action's duration
// (default 1 s, at most 10 min) or until ctx ends. Take_over and note
// have no device effect.
//
// ActResponse.message lists the commands sent.
func Act(ctx context.Context, dev adb.Device, a *cpv1.Action, screen *cpv1.ScreenSize) (*cpv1.ActResponse, error) {
	if a == nil {
		return nil, errors.New("android: act: no action")
	}
	if dev == nil {
		return nil, errors.New("android: act: no device")
	}
	start := time.Now()
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_WAIT:
		ms := int64(a.GetDurationMs())
		if ms <= 0 {
			ms = DefaultWaitMs
		}
		ms = min(ms, MaxWaitMs)
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("android: wait: %w", ctx.Err())
		case <-t.C:
		}
		return &cpv1.ActResponse{DurationUs: time.Since(start).Microseconds(), Message: "waited " + strconv.FormatInt(ms, 10) + " ms"}, nil
	case cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
		return &cpv1.ActResponse{Message: "no device effect"}, nil
	}
	var pre []string
	mode := TextADBKeyboard
	if a.GetType() == cpv1.ActionType_ACTION_TYPE_TYPE {
		// Check the text before asking the device anything.
		if _, err := Commands(a, screen, TextADBKeyboard); err != nil {
			return nil, fmt.Errorf("android: act: %w", err)
		}
		var err error
		if pre, mode, err = keyboard(ctx, dev); err != nil {
			return nil, fmt.Errorf("android: act: type: %w", err)
		}
	}
	cmds, err := Commands(a, screen, mode)
	if err != nil {
		return nil, fmt.Errorf("android: act: %w", err)
	}
	cmds = append(pre, cmds...)
	for _, c := range cmds {
		out, err := run(ctx, dev, c)
		if err != nil {
			return nil, fmt.Errorf("android: act: %w", err)
		}
		if pkg, ok := strings.CutPrefix(c, "monkey -p "); ok && strings.Contains(out, "monkey aborted") {
			pkg, _, _ = strings.Cut(pkg, " ")
			return nil, fmt.Errorf("android: act: launch %s: no launcher activity, is it installed? (%s)", pkg, strings.TrimSpace(string(clip([]byte(out), 200))))
		}
	}
	return &cpv1.ActResponse{DurationUs: time.Since(start).Microseconds(), Message: strings.Join(cmds, "; ")}, nil
}

// keyboard decides how to type on dev: through the ADB Keyboard when it
// is installed (with the commands that select it, if it is not the
// current IME), else with `input text`.
func keyboard(ctx context.Context, dev adb.Device) ([]string, TextMode, error) {
	out, _, _, err := dev.Shell(ctx, imeQueryCmd)
	if err != nil {
		return nil, 0, fmt.Errorf("query input methods: %w", err)
	}
	cur, installed := ParseIMEs(string(out))
	if cur == ADBKeyboardIME {
		return nil, TextADBKeyboard, nil
	}
	if !slices.Contains(installed, ADBKeyboardIME) {
		return nil, TextInput, nil
	}
	return []string{"ime enable " + ADBKeyboardIME, "ime set " + ADBKeyboardIME}, TextADBKeyboard, nil
}
