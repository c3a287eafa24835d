// Command device-echo is a small device backend plugin, written the way a
// third party would write one against sdk/plugin. It serves one device,
// "echo-1", that needs no phone:
//
//   - Shell echoes: "echo hi" prints "hi", "false" exits 1, "true" exits 0,
//     anything else prints the command text back.
//   - Observe returns a tiny generated PNG and a minimal uiautomator dump
//     that shows the last action.
//   - Act records the action and succeeds.
//   - List returns the device, Health is ok, Provision and Release are not
//     supported (errors wrapping errors.ErrUnsupported).
//
// Settings (plugins.config.device-echo), all optional:
//
//	{"device_id": "echo-1", "labels": {"region": "lab"}}
//
// Build with a version: go build -ldflags "-X main.version=1.2.3" .
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// The screen the echo device pretends to have.
const (
	screenW = 108
	screenH = 192
)

// maxActions bounds the recorded action history.
const maxActions = 100

// echo is the plugin: one fake-free echo device.
type echo struct {
	mu       sync.Mutex
	deviceID string
	labels   map[string]string
	actions  []*cpv1.Action
}

func newEcho() *echo {
	return &echo{deviceID: "echo-1", labels: map[string]string{"model": "echo", "android": "14"}}
}

// config is the plugin's settings section.
type config struct {
	DeviceID string            `json:"device_id"`
	Labels   map[string]string `json:"labels"`
}

func (e *echo) Configure(_ context.Context, configJSON []byte) error {
	var c config
	if len(bytes.TrimSpace(configJSON)) > 0 {
		if err := json.Unmarshal(configJSON, &c); err != nil {
			return fmt.Errorf("device-echo settings: %w", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.DeviceID != "" {
		e.deviceID = c.DeviceID
	}
	maps.Copy(e.labels, c.Labels)
	plugin.Logger().Info("configured", "device_id", e.deviceID)
	return nil
}

func (e *echo) device() *cpv1.DeviceInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return &cpv1.DeviceInfo{
		Id:     e.deviceID,
		Labels: maps.Clone(e.labels),
		State:  cpv1.DeviceState_DEVICE_STATE_READY,
		Screen: &cpv1.ScreenSize{Width: screenW, Height: screenH},
	}
}

// check accepts the device's id, or an empty one (the only device).
func (e *echo) check(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id != "" && id != e.deviceID {
		return fmt.Errorf("unknown device %q: device-echo serves only %q", id, e.deviceID)
	}
	return nil
}

func (e *echo) List(context.Context, *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	return &cpv1.ListResponse{Devices: []*cpv1.DeviceInfo{e.device()}}, nil
}

func (e *echo) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, fmt.Errorf("device-echo has one fixed device; provision is %w", errors.ErrUnsupported)
}

func (e *echo) Release(context.Context, *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	return nil, fmt.Errorf("device-echo has one fixed device; release is %w", errors.ErrUnsupported)
}

func (e *echo) Observe(_ context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	if err := e.check(req.GetDeviceId()); err != nil {
		return nil, err
	}
	e.mu.Lock()
	last := "none"
	if n := len(e.actions); n > 0 {
		last = describe(e.actions[n-1])
	}
	count := len(e.actions)
	e.mu.Unlock()

	obs := &cpv1.Observation{
		CurrentApp:     "com.example.echo",
		CurrentAppName: "Echo",
		Screen:         &cpv1.ScreenSize{Width: screenW, Height: screenH},
		TakenUnixMs:    time.Now().UnixMilli(),
	}
	if !req.GetSkipScreenshot() {
		shot, err := screenshot(count)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(shot)
		obs.ScreenshotPng = shot
		obs.ScreenshotSha256 = hex.EncodeToString(sum[:])
	}
	if !req.GetSkipUi() {
		obs.UiXml = uiDump(last)
	}
	return obs, nil
}

func (e *echo) Act(_ context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	if err := e.check(req.GetDeviceId()); err != nil {
		return nil, err
	}
	if req.GetAction() == nil {
		return nil, errors.New("act: no action")
	}
	if req.GetAction().GetType() == cpv1.ActionType_ACTION_TYPE_UNSPECIFIED {
		return nil, errors.New("act: action has no type")
	}
	e.mu.Lock()
	e.actions = append(e.actions, req.GetAction())
	if len(e.actions) > maxActions {
		e.actions = e.actions[len(e.actions)-maxActions:]
	}
	e.mu.Unlock()
	return &cpv1.ActResponse{Message: "recorded " + describe(req.GetAction())}, nil
}

func (e *echo) Shell(_ context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	if err := e.check(req.GetDeviceId()); err != nil {
		return nil, err
	}
	cmd := strings.TrimSpace(req.GetCommand())
	switch {
	case cmd == "false":
		return &cpv1.ShellResponse{ExitCode: 1}, nil
	case cmd == "true":
		return &cpv1.ShellResponse{}, nil
	case cmd == "echo":
		return &cpv1.ShellResponse{Stdout: []byte("\n")}, nil
	case strings.HasPrefix(cmd, "echo "):
		return &cpv1.ShellResponse{Stdout: []byte(strings.TrimPrefix(cmd, "echo ") + "\n")}, nil
	}
	return &cpv1.ShellResponse{Stdout: []byte(cmd + "\n")}, nil
}

func (e *echo) Health(_ context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if err := e.check(req.GetDeviceId()); err != nil {
		return nil, err
	}
	return &cpv1.HealthResponse{Ok: true, Message: "echo device is always healthy",
		Detail: map[string]string{"boot_completed": "1", "screen_on": "true"}}, nil
}

// describe is a short text for an action.
func describe(a *cpv1.Action) string {
	name := strings.ToLower(strings.TrimPrefix(a.GetType().String(), "ACTION_TYPE_"))
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_TAP, cpv1.ActionType_ACTION_TYPE_DOUBLE_TAP, cpv1.ActionType_ACTION_TYPE_LONG_PRESS:
		return fmt.Sprintf("%s %d,%d", name, a.GetPoint().GetX(), a.GetPoint().GetY())
	case cpv1.ActionType_ACTION_TYPE_SWIPE:
		return fmt.Sprintf("%s %d,%d->%d,%d", name, a.GetPoint().GetX(), a.GetPoint().GetY(), a.GetEnd().GetX(), a.GetEnd().GetY())
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		return fmt.Sprintf("%s %q", name, a.GetText())
	case cpv1.ActionType_ACTION_TYPE_KEY:
		return name + " " + a.GetKey()
	case cpv1.ActionType_ACTION_TYPE_LAUNCH:
		return name + " " + a.GetPackage()
	}
	return name
}

// screenshot draws the echo screen: a status bar, a title bar and a button;
// the button's shade changes with every recorded action.
func screenshot(actions int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, screenW, screenH))
	fill := func(r image.Rectangle, c color.RGBA) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	fill(img.Bounds(), color.RGBA{0xf5, 0xf5, 0xf5, 0xff})
	fill(image.Rect(0, 0, screenW, 8), color.RGBA{0x20, 0x20, 0x20, 0xff})
	fill(image.Rect(0, 8, screenW, 28), color.RGBA{0x3f, 0x51, 0xb5, 0xff})
	shade := uint8(0x40 + (actions*16)%0xa0)
	fill(image.Rect(24, 80, 84, 112), color.RGBA{0x00, shade, 0x88, 0xff})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode screenshot: %w", err)
	}
	return buf.Bytes(), nil
}

// uiDump is a minimal uiautomator dump of the echo screen.
func uiDump(last string) string {
	node := func(index int, text, class string, clickable bool, bounds string, children string) string {
		return fmt.Sprintf(`<node index="%d" text="%s" resource-id="" class="%s" package="com.example.echo" content-desc="" `+
			`checkable="false" checked="false" clickable="%t" enabled="true" focusable="%t" focused="false" `+
			`scrollable="false" long-clickable="false" password="false" selected="false" bounds="%s">%s</node>`,
			index, html.EscapeString(text), class, clickable, clickable, bounds, children)
	}
	children := node(0, "Echo", "android.widget.TextView", false, "[0,8][108,28]", "") +
		node(1, "Last action: "+last, "android.widget.TextView", false, "[0,40][108,60]", "") +
		node(2, "Tap me", "android.widget.Button", true, "[24,80][84,112]", "")
	return `<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` +
		`<hierarchy rotation="0">` +
		node(0, "", "android.widget.FrameLayout", false, fmt.Sprintf("[0,0][%d,%d]", screenW, screenH), children) +
		`</hierarchy>`
}

func main() {
	plugin.ServeDevice(&cpv1.PluginInfo{
		Name:         "device-echo",
		Version:      version,
		Capabilities: []string{"screenshot", "ui_xml", "shell"},
		Description:  "one echo device: Shell echoes, Observe shows a generated screen, Act records",
	}, newEcho())
}

var (
	_ plugin.Device     = (*echo)(nil)
	_ plugin.Configurer = (*echo)(nil)
)
