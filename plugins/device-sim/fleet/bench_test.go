package fleet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
)

// stepTarget prepares a phone for the agent-step benchmark: Settings in
// front, and the WLAN switch's centre, so that every step's tap changes
// the screen (the next screenshot is rendered afresh, as after a real
// action).
func stepTarget(b *testing.B, d *Device) (int, int) {
	b.Helper()
	ctx := context.Background()
	var out, errb bytes.Buffer
	if code := d.Phone.Exec(ctx, "monkey -p com.android.settings -c android.intent.category.LAUNCHER 1", nil, &out, &errb); code != 0 {
		b.Fatalf("monkey: %d %s", code, errb.String())
	}
	dump := d.Phone.DumpXML()
	i := bytes.Index(dump, []byte(`resource-id="android:id/switch_widget"`))
	if i < 0 {
		b.Fatalf("no switch in Settings:\n%.400s", dump)
	}
	rest := dump[i:]
	j := bytes.Index(rest, []byte(`bounds="`))
	var l, t, r, bt int
	if _, err := fmt.Sscanf(string(rest[j+len(`bounds="`):]), "[%d,%d][%d,%d]", &l, &t, &r, &bt); err != nil {
		b.Fatalf("switch bounds: %v", err)
	}
	return (l + r) / 2, (t + bt) / 2
}

// sdkStep is one agent step's device I/O through sdk/adb: screenshot,
// UI dump, current app, tap. With parallel set, the three reads share the
// connection concurrently, as the device-sim plugin's Observe does.
func sdkStep(ctx context.Context, dev adb.Device, x, y int, parallel bool) error {
	var shot, ui, win []byte
	var errs [3]error
	reads := []func(){
		func() { shot, errs[0] = dev.ExecOut(ctx, "screencap -p") },
		func() { ui, errs[1] = dev.ExecOut(ctx, "uiautomator dump /dev/tty") },
		func() { win, _, _, errs[2] = dev.Shell(ctx, "dumpsys window") },
	}
	if parallel {
		var wg sync.WaitGroup
		for _, r := range reads {
			wg.Go(r)
		}
		wg.Wait()
	} else {
		for _, r := range reads {
			r()
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if len(shot) < 1000 || !bytes.Contains(ui, []byte("</hierarchy>")) || !bytes.Contains(win, []byte("mCurrentFocus")) {
		return fmt.Errorf("bad step output: %d PNG bytes, %d XML bytes", len(shot), len(ui))
	}
	_, _, code, err := dev.Shell(ctx, fmt.Sprintf("input tap %d %d", x, y))
	if err != nil || code != 0 {
		return fmt.Errorf("tap: exit %d: %v", code, err)
	}
	return nil
}

// binStep is the same step as Open-AutoGLM performs it: one adb process
// per command, screenshots and dumps through a file on the phone.
func binStep(ctx context.Context, s *adbServer, serial, dir string, x, y int) error {
	run := func(args ...string) ([]byte, error) {
		out, err := s.Command(ctx, append([]string{"-s", serial}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("adb %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
	shot := filepath.Join(dir, "tmp.png")
	ui := filepath.Join(dir, "window_dump.xml")
	for _, args := range [][]string{
		{"shell", "screencap", "-p", "/sdcard/tmp.png"},
		{"pull", "/sdcard/tmp.png", shot},
		{"shell", "uiautomator", "dump", "/sdcard/window_dump.xml"},
		{"pull", "/sdcard/window_dump.xml", ui},
	} {
		if _, err := run(args...); err != nil {
			return err
		}
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 1000 {
		return fmt.Errorf("pulled screenshot: %v", err)
	}
	win, err := run("shell", "dumpsys", "window")
	if err != nil {
		return err
	}
	if !bytes.Contains(win, []byte("mCurrentFocus")) {
		return fmt.Errorf("dumpsys window has no mCurrentFocus")
	}
	_, err = run("shell", "input", "tap", fmt.Sprint(x), fmt.Sprint(y))
	return err
}

// BenchmarkAgentStepIO measures one agent step's device I/O (screenshot,
// UI dump, current app, tap) on the same phone in the same run: sdk/adb
// on one persistent connection (sequential, and with the three reads
// concurrent), sdk/adb through the adb server, and the adb binary spawned
// per command as Open-AutoGLM does.
//
// screen=changing taps a switch, so every step renders and encodes a new
// 1080×2400 PNG (≈20 ms of CPU on either path); screen=static taps a spot
// that changes nothing, so the phone serves its cached PNG and the figures
// are what the transport itself costs. Run with:
//
//	go test ./plugins/device-sim/fleet -run '^$' -bench AgentStepIO -benchtime 20x
func BenchmarkAgentStepIO(b *testing.B) {
	var s *adbServer
	if _, err := exec.LookPath("adb"); err == nil {
		s = startADB(b)
	}
	for _, prof := range []phone.Profile{phone.Instant, phone.RealPhone} {
		d := startFleet(b, 1, func(o *Options) { o.Profile = prof }).Devices()[0]
		sx, sy := stepTarget(b, d)
		ctx := context.Background()
		c, err := adb.Dial(ctx, d.Serial, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		if s != nil {
			s.connect(b, d.Serial)
		}
		for _, screen := range []string{"changing", "static"} {
			// (540, 150) is the Settings app bar's title: no effect.
			x, y := 540, 150
			if screen == "changing" {
				x, y = sx, sy
			}
			b.Run("profile="+prof.Name+"/screen="+screen, func(b *testing.B) {
				b.Run("sdk-persistent", func(b *testing.B) {
					for b.Loop() {
						if err := sdkStep(ctx, c, x, y, false); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("sdk-persistent-concurrent", func(b *testing.B) {
					for b.Loop() {
						if err := sdkStep(ctx, c, x, y, true); err != nil {
							b.Fatal(err)
						}
					}
				})
				if s == nil {
					b.Log("adb binary not found; adb-server and adb-binary runs skipped")
					return
				}
				b.Run("sdk-via-adb-server", func(b *testing.B) {
					dev := s.Client().Device(d.Serial)
					for b.Loop() {
						if err := sdkStep(ctx, dev, x, y, false); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("adb-binary-per-command", func(b *testing.B) {
					dir := b.TempDir()
					for b.Loop() {
						if err := binStep(ctx, s, d.Serial, dir, x, y); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}

// BenchmarkIdle reports what one idle phone (state, listener, goroutine)
// costs, in bytes per phone.
func BenchmarkIdle(b *testing.B) {
	for b.Loop() {
		before := memUse()
		f, err := Start(context.Background(), Options{Count: 200, Listen: "127.0.0.1:0", Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		after := memUse()
		f.Close()
		b.ReportMetric(float64(after-before)/200, "B/phone")
	}
}
