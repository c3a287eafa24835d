package phone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"
)

func TestFaultDrop(t *testing.T) {
	p := New(Options{})
	p.InjectFault(FaultDrop)
	code, err := p.Run(context.Background(), "echo hi", nil, io.Discard, io.Discard)
	if !errors.Is(err, ErrDropConnection) || code != ExitDropped {
		t.Fatalf("drop: %d %v", code, err)
	}
	if code := p.Exec(context.Background(), "echo hi", nil, io.Discard, io.Discard); code != 0 {
		t.Fatalf("next command after drop exit %d", code)
	}
}

func TestFaultStallHonoursContext(t *testing.T) {
	p := New(Options{Faults: Faults{Rules: []FaultRule{{Kind: FaultStall, Match: "screencap", Nth: 2}}}})
	if _, err := p.Run(context.Background(), "screencap -p", nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("first screencap: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	code, err := p.Run(ctx, "screencap -p", nil, io.Discard, io.Discard)
	if !errors.Is(err, context.DeadlineExceeded) || code != ExitCanceled {
		t.Fatalf("stall: %d %v", code, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stall ignored the context for %v", d)
	}
	if _, err := p.Run(context.Background(), "screencap -p", nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("third screencap: %v", err)
	}
}

func TestFaultReboot(t *testing.T) {
	p := New(Options{Faults: Faults{RebootFor: 100 * time.Millisecond}})
	must(t, p, "monkey -p com.tencent.mm 1; settings put global bluetooth_on 1; echo keep > /sdcard/k")
	p.InjectFault(FaultReboot)
	if _, err := p.Run(context.Background(), "true", nil, nil, nil); !errors.Is(err, ErrDropConnection) {
		t.Fatalf("reboot returned %v", err)
	}
	if out := must(t, p, "getprop sys.boot_completed"); out != "\n" {
		t.Fatalf("boot_completed while booting %q", out)
	}
	if _, e, code := run(t, p, "input tap 1 1"); code == 0 || e == "" {
		t.Fatalf("input while booting: %d %q", code, e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for must(t, p, "getprop sys.boot_completed") != "1\n" {
		if time.Now().After(deadline) {
			t.Fatal("never finished booting")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := p.State()
	if st.CurrentApp != launcherPkg || st.Settings.Bluetooth || !st.Booted {
		t.Fatalf("state survived reboot: %+v", st)
	}
	if out := must(t, p, "cat /sdcard/k"); out != "keep\n" {
		t.Fatalf("files lost in reboot: %q", out)
	}
}

func TestFaultProbabilityIsSeeded(t *testing.T) {
	pattern := func() []int {
		p := New(Options{Faults: Faults{Seed: 42, Drop: 0.3}})
		var out []int
		for i := 0; i < 50; i++ {
			out = append(out, p.Exec(context.Background(), "true", nil, nil, nil))
		}
		return out
	}
	a, b := pattern(), pattern()
	drops := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("run differs at %d", i)
		}
		if a[i] == ExitDropped {
			drops++
		}
	}
	if drops < 5 || drops > 30 {
		t.Fatalf("%d drops of 50 at p=0.3", drops)
	}
}

func TestLatencyProfile(t *testing.T) {
	pr, err := ProfileByName("phone")
	if err != nil {
		t.Fatal(err)
	}
	p := New(Options{Profile: pr})
	start := time.Now()
	must(t, p, "input tap 1 1")
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("input took %v under the phone profile", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := p.Run(ctx, "screencap -p", nil, io.Discard, io.Discard); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("latency ignored ctx: %v", err)
	}
	if _, err := ProfileByName("warp"); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

func TestConcurrentExec(t *testing.T) {
	p := New(Options{Width: 360, Height: 800})
	cmds := []string{"screencap -p", "uiautomator dump", "input tap 60 250", "input keyevent 4",
		"dumpsys window", "am broadcast -a ADB_INPUT_TEXT --es msg x", "monkey -p com.tencent.mm 1", "cloudphone-state"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				p.Exec(context.Background(), cmds[(g+i)%len(cmds)], nil, io.Discard, io.Discard)
			}
		}(g)
	}
	wg.Wait()
}

func TestFaultsConfigJSON(t *testing.T) {
	var f Faults
	err := json.Unmarshal([]byte(`{"seed":7,"drop":0.1,"rules":[{"kind":"stall","match":"screencap","nth":3}]}`), &f)
	if err != nil || f.Rules[0].Kind != FaultStall || f.Drop != 0.1 {
		t.Fatalf("%+v %v", f, err)
	}
	if err := json.Unmarshal([]byte(`{"rules":[{"kind":"explode"}]}`), &f); err == nil {
		t.Fatal("unknown fault kind accepted")
	}
}
