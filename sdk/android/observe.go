package android

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Commands Observe sends.
const (
	screencapCmd = "screencap -p"
	// uiTTYCmd dumps the hierarchy to the shell's output, where the
	// device supports it (some Android 11+ builds refuse /dev/tty).
	uiTTYCmd = "uiautomator dump /dev/tty"
	// uiDir holds the per-call dump files of DumpUI (writable by the
	// shell user on every Android).
	uiDir      = "/data/local/tmp/"
	focusCmd   = "dumpsys window | grep -E 'mCurrentFocus|mFocusedApp'"
	wmSizeCmd  = "wm size"
	hierarchyE = "</hierarchy>"
)

// ObserveOptions say what Observe gathers and how.
type ObserveOptions struct {
	// SkipScreenshot and SkipUI leave out the screenshot and the UI
	// hierarchy (the planner did not ask for them).
	SkipScreenshot bool
	SkipUI         bool
	// Screen is the device's size when the caller knows it (see
	// SizeCache); nil asks `wm size` in the same round.
	Screen *cpv1.ScreenSize
	// AppName names a package for Observation.current_app_name; nil uses
	// the built-in table (AppName). Return "" for unknown packages.
	AppName func(pkg string) string
	// UIDumpTTY dumps the UI hierarchy to /dev/tty (DumpUITTY) instead
	// of through a file (DumpUI, the default). Both take one stream; the
	// file works on every Android version and measured faster on the
	// simulated phone.
	UIDumpTTY bool
	// Sequential runs the commands one after another instead of as
	// concurrent streams (for devices or links that handle one stream at
	// a time, and for comparison).
	Sequential bool
}

// Observe gathers what a planner sees: the screenshot (`exec-out
// screencap -p`, with its sha256), the UI hierarchy (`uiautomator dump`),
// the focused app and its name (`dumpsys window`) and the screen size
// (`wm size`, unless opts.Screen gives it), as concurrent streams on the
// device's connection. Any failed command fails the observation; a focus
// that cannot be parsed leaves current_app empty.
func Observe(ctx context.Context, dev adb.Device, opts ObserveOptions) (*cpv1.Observation, error) {
	if dev == nil {
		return nil, errors.New("android: observe: no device")
	}
	obs := &cpv1.Observation{TakenUnixMs: time.Now().UnixMilli()}
	if s := opts.Screen; s.GetWidth() > 0 && s.GetHeight() > 0 {
		obs.Screen = &cpv1.ScreenSize{Width: s.GetWidth(), Height: s.GetHeight()}
	}
	var jobs []func() error
	if !opts.SkipScreenshot {
		jobs = append(jobs, func() error {
			png, err := dev.ExecOut(ctx, screencapCmd)
			if err != nil {
				return fmt.Errorf("screenshot: %w", err)
			}
			if !bytes.HasPrefix(png, pngMagic) {
				return fmt.Errorf("screenshot: not a PNG (%d bytes: %q)", len(png), clip(png, 80))
			}
			sum := sha256.Sum256(png)
			obs.ScreenshotPng, obs.ScreenshotSha256 = png, hex.EncodeToString(sum[:])
			return nil
		})
	}
	if !opts.SkipUI {
		jobs = append(jobs, func() error {
			dump := DumpUI
			if opts.UIDumpTTY {
				dump = DumpUITTY
			}
			xml, err := dump(ctx, dev)
			if err != nil {
				return err
			}
			obs.UiXml = xml
			return nil
		})
	}
	jobs = append(jobs, func() error {
		f, _, err := CurrentApp(ctx, dev)
		if err != nil {
			return err
		}
		obs.CurrentApp = f.Package
		name := opts.AppName
		if name == nil {
			name = AppName
		}
		if f.Package != "" {
			obs.CurrentAppName = name(f.Package)
		}
		return nil
	})
	if obs.Screen == nil {
		jobs = append(jobs, func() error {
			s, err := ScreenSize(ctx, dev)
			if err != nil {
				return err
			}
			obs.Screen = s
			return nil
		})
	}
	if err := runJobs(jobs, opts.Sequential); err != nil {
		return nil, fmt.Errorf("android: observe: %w", err)
	}
	return obs, nil
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// runJobs runs jobs concurrently (or in order) and joins their errors.
// Each job writes its own fields, so they need no lock.
func runJobs(jobs []func() error, sequential bool) error {
	errs := make([]error, len(jobs))
	if sequential {
		for i, j := range jobs {
			errs[i] = j()
		}
		return errors.Join(errs...)
	}
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = j() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// clip returns at most n bytes of b, for error messages.
func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// run runs cmd and returns its stdout; a non-zero exit is an error
// carrying stderr (or stdout, where the device has no shell_v2).
func run(ctx context.Context, dev adb.Device, cmd string) (string, error) {
	out, errb, code, err := dev.Shell(ctx, cmd)
	if err != nil {
		return "", err
	}
	if code != 0 {
		msg := strings.TrimSpace(string(clip(errb, 300)))
		if msg == "" {
			msg = strings.TrimSpace(string(clip(out, 300)))
		}
		return string(out), fmt.Errorf("%s: exit %d: %s", cmd, code, msg)
	}
	return string(out), nil
}

// runGrep runs a command that ends in grep, which exits 1 when nothing
// matched: only other non-zero statuses are errors.
func runGrep(ctx context.Context, dev adb.Device, cmd string) (string, error) {
	out, errb, code, err := dev.Shell(ctx, cmd)
	if err != nil {
		return "", err
	}
	if code != 0 && code != 1 {
		return "", fmt.Errorf("%s: exit %d: %s", cmd, code, strings.TrimSpace(string(clip(errb, 300))))
	}
	return string(out), nil
}

// DumpUI returns the UI hierarchy as `uiautomator dump` writes it,
// trimmed to the XML document: dumped to a file of its own under
// /data/local/tmp (concurrent dumps do not share one), printed and
// removed, in one shell command.
func DumpUI(ctx context.Context, dev adb.Device) (string, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	f := uiDir + "cloudphone-ui-" + hex.EncodeToString(rnd[:]) + ".xml"
	out, err := run(ctx, dev, "uiautomator dump "+f+" >/dev/null && cat "+f+" && rm -f "+f)
	if err != nil {
		return "", fmt.Errorf("ui dump: %w", err)
	}
	xml, ok := hierarchy(out)
	if !ok {
		return "", fmt.Errorf("ui dump: no hierarchy in %d bytes of output: %q", len(out), clip([]byte(out), 120))
	}
	return xml, nil
}

// DumpUITTY returns the UI hierarchy dumped to /dev/tty, falling back to
// DumpUI where the device refuses that.
func DumpUITTY(ctx context.Context, dev adb.Device) (string, error) {
	out, _, code, err := dev.Shell(ctx, uiTTYCmd)
	if err != nil {
		return "", fmt.Errorf("ui dump: %w", err)
	}
	if xml, ok := hierarchy(string(out)); ok && code == 0 {
		return xml, nil
	}
	return DumpUI(ctx, dev)
}

// hierarchy cuts the XML document out of uiautomator's output, which
// adds "UI hierchary dumped to: …" after it.
func hierarchy(out string) (string, bool) {
	i := strings.Index(out, "<?xml")
	if i < 0 {
		i = strings.Index(out, "<hierarchy")
	}
	j := strings.LastIndex(out, hierarchyE)
	if i < 0 || j < i {
		return "", false
	}
	return out[i : j+len(hierarchyE)], true
}

// CurrentApp returns the focused app from `dumpsys window`; ok is false
// (and f empty) when the output names none, e.g. while the device boots.
func CurrentApp(ctx context.Context, dev adb.Device) (f Focus, ok bool, err error) {
	out, err := runGrep(ctx, dev, focusCmd)
	if err != nil {
		return Focus{}, false, fmt.Errorf("current app: %w", err)
	}
	f, ok = ParseFocus(string(out))
	return f, ok, nil
}

// ScreenSize asks `wm size`.
func ScreenSize(ctx context.Context, dev adb.Device) (*cpv1.ScreenSize, error) {
	out, err := run(ctx, dev, wmSizeCmd)
	if err != nil {
		return nil, fmt.Errorf("screen size: %w", err)
	}
	w, h, ok := ParseWMSize(out)
	if !ok {
		return nil, fmt.Errorf("screen size: cannot parse %q", clip([]byte(out), 120))
	}
	return &cpv1.ScreenSize{Width: int32(w), Height: int32(h)}, nil
}

// SizeCache remembers screen sizes by device id, so `wm size` runs once
// per device. Forget a device when it reboots or its display may have
// changed. It is safe for concurrent use; the zero value is ready.
type SizeCache struct {
	mu sync.Mutex
	m  map[string]*cpv1.ScreenSize
}

// Get returns id's size, asking dev on the first call.
func (c *SizeCache) Get(ctx context.Context, id string, dev adb.Device) (*cpv1.ScreenSize, error) {
	c.mu.Lock()
	s, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := ScreenSize(ctx, dev)
	if err != nil {
		return nil, err
	}
	c.Put(id, s)
	return s, nil
}

// Put records id's size (e.g. from an Observation).
func (c *SizeCache) Put(id string, s *cpv1.ScreenSize) {
	if s.GetWidth() <= 0 || s.GetHeight() <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*cpv1.ScreenSize{}
	}
	c.m[id] = &cpv1.ScreenSize{Width: s.GetWidth(), Height: s.GetHeight()}
}

// Peek returns id's size if known, without asking the device.
func (c *SizeCache) Peek(id string) *cpv1.ScreenSize {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

// Forget drops id's size.
func (c *SizeCache) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
