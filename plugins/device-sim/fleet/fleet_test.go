package fleet

import (
	"context"
	"crypto/rsa"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
)

func TestRefusesEmulatorPorts(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:5555", "127.0.0.1:5585", "127.0.0.1:5550"} {
		_, err := Start(context.Background(), Options{Count: 10, Listen: listen, Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "emulators") {
			t.Errorf("Start(%s, 10 phones): %v, want a refusal naming the emulator ports", listen, err)
		}
	}
	if _, err := Start(context.Background(), Options{Count: 2, Listen: "127.0.0.1:65535", Logger: quiet}); err == nil {
		t.Error("ports past 65535 accepted")
	}
	if _, err := Start(context.Background(), Options{Count: 1, Listen: "no-port", Logger: quiet}); err == nil {
		t.Error("bad address accepted")
	}
}

// TestConsecutivePorts starts phones on a fixed base port, as users do,
// and checks serials and a busy port.
func TestConsecutivePorts(t *testing.T) {
	// Find three free consecutive ports above the emulator range.
	var base int
	for try := 0; try < 20 && base == 0; try++ {
		p := freePort(t)
		if p+3 > 65535 || (p+3 >= EmulatorPortMin && p <= EmulatorPortMax) {
			continue
		}
		ok := true
		for i := 1; i < 3; i++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				ok = false
				break
			}
			_ = ln.Close()
		}
		if ok {
			base = p
		}
	}
	if base == 0 {
		t.Skip("no three free consecutive ports")
	}
	f := startFleet(t, 2, func(o *Options) { o.Listen = "127.0.0.1:" + strconv.Itoa(base) })
	devs := f.Devices()
	for i, d := range devs {
		if want := "127.0.0.1:" + strconv.Itoa(base+i); d.Serial != want || d.Phone.Serial() != want {
			t.Errorf("phone %d: serial %s / %s, want %s", i, d.Serial, d.Phone.Serial(), want)
		}
	}
	d, err := f.Add(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.Port() != base+2 || !d.Provisioned {
		t.Errorf("added phone on port %d (provisioned %t), want %d", d.Port(), d.Provisioned, base+2)
	}
	// A second fleet on the same ports fails with the listen error.
	if _, err := Start(context.Background(), Options{Count: 1, Listen: "127.0.0.1:" + strconv.Itoa(base), Logger: quiet}); err == nil {
		t.Error("a second fleet on busy ports started")
	}
}

func TestAddRemoveClose(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := Start(context.Background(), Options{Count: 3, Listen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := ctx30()
	defer cancel()
	d, err := f.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 4 {
		t.Fatalf("%d phones, want 4", f.Len())
	}
	c, err := adb.Dial(ctx, d.Serial, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, code, err := c.Shell(ctx, "true"); err != nil || code != 0 {
		t.Fatalf("shell on the added phone: %d %v", code, err)
	}
	if err := f.Remove(d.Serial); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("removing a phone left its connection open")
	}
	if _, err := adb.Dial(ctx, d.Serial, nil); err == nil {
		t.Error("a removed phone still accepts connections")
	}
	if err := f.Remove(d.Serial); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
	// Close with a connection open: it closes and every goroutine ends.
	c2, err := adb.Dial(ctx, f.Devices()[0].Serial, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	f.Close()
	select {
	case <-c2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a connection open")
	}
	_ = c.Close()
	_ = c2.Close()
	if _, err := f.Add(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// TestFaultDropsConnection: a drop fault closes the host's connection;
// the phone still serves new ones.
func TestFaultDropsConnection(t *testing.T) {
	f := startFleet(t, 1, func(o *Options) {
		o.Faults = phone.Faults{Rules: []phone.FaultRule{{Kind: phone.FaultDrop, Match: "crash-me"}}}
	})
	d := f.Devices()[0]
	ctx, cancel := ctx30()
	defer cancel()
	c, err := adb.Dial(ctx, d.Serial, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_, _, _, _ = c.Shell(ctx, "echo crash-me")
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("drop fault did not drop the connection")
	}
	c2, err := adb.Dial(ctx, d.Serial, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c2.Close() }()
	if out, _, _, err := c2.Shell(ctx, "echo ok"); err != nil || string(out) != "ok\n" {
		t.Fatalf("after the drop: %q %v", out, err)
	}
}

func TestReboot(t *testing.T) {
	f := startFleet(t, 1, func(o *Options) { o.Faults.RebootFor = 50 * time.Millisecond })
	d := f.Devices()[0]
	ctx, cancel := ctx30()
	defer cancel()
	c, err := adb.Dial(ctx, d.Serial, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if _, _, _, err := c.Shell(ctx, "monkey -p com.tencent.mm 1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reboot(ctx, ""); err != nil {
		t.Fatalf("reboot: %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("reboot did not drop the connection")
	}
	if st := d.Phone.State(); st.CurrentApp != "com.android.launcher3" {
		t.Errorf("after reboot the phone shows %s", st.CurrentApp)
	}
}

func TestAuth(t *testing.T) {
	key, err := adb.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := startFleet(t, 1, func(o *Options) { o.Auth = adbd.NewAuth(&key.PublicKey) })
	serial := f.Devices()[0].Serial
	ctx, cancel := ctx30()
	defer cancel()
	if _, err := adb.Dial(ctx, serial, nil); !errors.Is(err, adb.ErrAuthRequired) {
		t.Errorf("dial without a key: %v", err)
	}
	c, err := adb.Dial(ctx, serial, &adb.DialOptions{Keys: []*rsa.PrivateKey{key}})
	if err != nil {
		t.Fatalf("dial with the accepted key: %v", err)
	}
	_ = c.Close()
}

// TestResize grows and shrinks the configured phones, leaving provisioned
// ones and the survivors' state alone.
func TestResize(t *testing.T) {
	f := startFleet(t, 2)
	ctx, cancel := ctx30()
	defer cancel()
	first := f.Devices()[0]
	if code := first.Phone.Exec(ctx, "monkey -p com.tencent.mm 1", nil, nil, nil); code != 0 {
		t.Fatalf("monkey: %d", code)
	}
	prov, err := f.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Resize(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if f.Len() != 5 {
		t.Fatalf("%d phones after growing to 4 (+1 provisioned)", f.Len())
	}
	if err := f.Resize(ctx, 1); err != nil {
		t.Fatal(err)
	}
	devs := f.Devices()
	if len(devs) != 2 {
		t.Fatalf("%d phones after shrinking to 1 (+1 provisioned)", len(devs))
	}
	if _, ok := f.Get(prov.Serial); !ok {
		t.Error("shrinking removed the provisioned phone")
	}
	if d, ok := f.Get(first.Serial); !ok || d.Phone.State().CurrentApp != "com.tencent.mm" {
		t.Error("shrinking replaced the first phone")
	}
	if err := f.Resize(ctx, -1); err == nil {
		t.Error("negative size accepted")
	}
}
