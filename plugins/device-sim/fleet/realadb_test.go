package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
)

// TestRealADB drives simulated phones with Debian's adb binary and with
// sdk/adb through the same adb server (one isolated server for all
// subtests).
func TestRealADB(t *testing.T) {
	s := startADB(t)
	const parallel = 50
	f := startFleet(t, 2+parallel)
	devs := f.Devices()

	t.Run("adb binary", func(t *testing.T) {
		d := devs[0]
		s.connect(t, d.Serial)
		out, _ := s.Run(t, "devices", "-l")
		if !strings.Contains(out, d.Serial+"\tdevice") && !strings.Contains(out, d.Serial+"    device") &&
			!strings.Contains(out, d.Serial+" ") {
			t.Fatalf("adb devices -l:\n%s", out)
		}
		if !strings.Contains(out, "model:CloudPhone_1") {
			t.Errorf("adb devices -l shows no model:\n%s", out)
		}
		w, h := d.Phone.Size()
		checkPhone(t, binDriver{s: s, serial: d.Serial}, w, h)
	})

	t.Run("sdk/adb via server", func(t *testing.T) {
		d := devs[1]
		ctx, cancel := ctx30()
		defer cancel()
		sc := s.Client()
		msg, err := sc.Connect(ctx, d.Serial)
		if err != nil || !strings.Contains(msg, "connected to") {
			t.Fatalf("Connect: %q, %v", msg, err)
		}
		if err := sc.WaitForDevice(ctx, d.Serial); err != nil {
			t.Fatalf("WaitForDevice: %v", err)
		}
		list, err := sc.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range list {
			found = found || (e.Serial == d.Serial && e.State == "device")
		}
		if !found {
			t.Fatalf("Devices: %+v", list)
		}
		w, h := d.Phone.Size()
		checkPhone(t, sdkDriver{sc.Device(d.Serial)}, w, h)
	})

	t.Run("auth", func(t *testing.T) {
		// adb start-server made this key in the isolated HOME.
		key, err := adb.LoadKey(filepath.Join(s.Home, ".android", "adbkey"))
		if err != nil {
			t.Fatal(err)
		}
		known := startFleet(t, 1, func(o *Options) { o.Auth = adbd.NewAuth(&key.PublicKey) }).Devices()[0]
		s.connect(t, known.Serial)
		if out := must(t, binDriver{s: s, serial: known.Serial}, "echo authorized"); out != "authorized\n" {
			t.Errorf("shell on an authenticated phone: %q", out)
		}
		strangers := startFleet(t, 1, func(o *Options) { o.Auth = adbd.NewAuth() }).Devices()[0]
		_, _ = s.Run(t, "connect", strangers.Serial)
		deadline := time.Now().Add(10 * time.Second)
		for {
			out, _ := s.Run(t, "devices")
			if strings.Contains(out, strangers.Serial+"\tunauthorized") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a phone that knows no key is not unauthorized:\n%s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("50 phones in parallel", func(t *testing.T) {
		batch := devs[2:]
		var wg sync.WaitGroup
		errs := make(chan error, 3*len(batch))
		for _, d := range batch {
			wg.Go(func() {
				ctx, cancel := ctx30()
				defer cancel()
				out, err := s.Command(ctx, "connect", d.Serial).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "connected to "+d.Serial) {
					errs <- fmt.Errorf("connect %s: %v: %s", d.Serial, err, out)
				}
			})
		}
		wg.Wait()
		ctx, cancel := ctx30()
		defer cancel()
		for _, d := range batch {
			if err := s.Client().WaitForDevice(ctx, d.Serial); err != nil {
				t.Fatalf("%s never came online: %v", d.Serial, err)
			}
		}
		for _, d := range batch {
			wg.Go(func() {
				ctx, cancel := ctx30()
				defer cancel()
				// One adb process per phone, all at once, each changing
				// its own phone.
				cmd := "monkey -p com.android.settings -c android.intent.category.LAUNCHER 1 >/dev/null && dumpsys window | grep mCurrentFocus"
				out, err := s.Command(ctx, "-s", d.Serial, "shell", cmd).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "com.android.settings") {
					errs <- fmt.Errorf("%s: %v: %s", d.Serial, err, out)
				}
				// And sdk/adb through the same server.
				o, _, code, err := s.Client().Device(d.Serial).Shell(ctx, "getprop ro.serialno")
				if err != nil || code != 0 || strings.TrimSpace(string(o)) != d.Serial {
					errs <- fmt.Errorf("%s: sdk/adb via server: %q exit %d: %v", d.Serial, o, code, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, d := range batch {
			if st := d.Phone.State(); st.CurrentApp != "com.android.settings" {
				t.Errorf("%s: current app %q", d.Serial, st.CurrentApp)
			}
		}
	})
}

// TestDirect runs the same checks through sdk/adb's own client, straight
// to the phone's port with one persistent connection, and drives 50
// phones at once that way. It needs no adb binary.
func TestDirect(t *testing.T) {
	const parallel = 50
	f := startFleet(t, 1+parallel)
	devs := f.Devices()
	dial := func(t *testing.T, serial string) *adb.Conn {
		ctx, cancel := ctx30()
		defer cancel()
		c, err := adb.Dial(ctx, serial, nil)
		if err != nil {
			t.Fatalf("dial %s: %v", serial, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	t.Run("checks", func(t *testing.T) {
		c := dial(t, devs[0].Serial)
		if b := c.Banner(); b.Model != "CloudPhone 1" || b.Type != "device" {
			t.Errorf("banner %+v", b)
		}
		w, h := devs[0].Phone.Size()
		checkPhone(t, sdkDriver{c}, w, h)
	})
	t.Run("50 phones in parallel", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, parallel)
		for _, d := range devs[1:] {
			c := dial(t, d.Serial)
			wg.Go(func() {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if _, _, code, err := c.Shell(ctx, "monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1"); err != nil || code != 0 {
					errs <- fmt.Errorf("%s: monkey: exit %d, %v", d.Serial, code, err)
					return
				}
				png, err := c.ExecOut(ctx, "screencap -p")
				if err != nil || len(png) < 1000 {
					errs <- fmt.Errorf("%s: screencap: %d bytes, %v", d.Serial, len(png), err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, d := range devs[1:] {
			if st := d.Phone.State(); st.CurrentApp != "com.tencent.mm" {
				t.Errorf("%s: current app %q", d.Serial, st.CurrentApp)
			}
		}
	})
}
