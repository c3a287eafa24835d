package main

import (
	"context"
	"os/exec"
	"strconv"
	"testing"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkObserve measures one full observation (screenshot, UI dump,
// current app) of a simulated phone, with no latency (instant: the cost
// of the path itself) and with a real phone's latencies (phone:
// screencap ≈150 ms, UI dump ≈100 ms, other commands ≈5 ms):
//
//   - plugin: device-adb's Observe, sdk/android's concurrent streams on
//     the persistent direct connection;
//   - sequential: the same commands one after another on that connection;
//   - server: concurrent, through the adb server (a socket per command);
//   - adb-binary: Open-AutoGLM's way, one `adb` process per command.
//
// Run it with
//
//	go test -run '^$' -bench BenchmarkObserve -benchtime 20x ./plugins/device-adb/
func BenchmarkObserve(b *testing.B) {
	for _, prof := range []string{"instant", "phone"} {
		b.Run(prof, func(b *testing.B) {
			p, err := phone.ProfileByName(prof)
			if err != nil {
				b.Fatal(err)
			}
			f := startFleet(b, 1, func(o *fleet.Options) { o.Profile = p })
			d := f.Devices()[0]
			be := newTestBackend(b, directConfig(b, d.Serial))
			ctx := context.Background()
			if _, err := be.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial}); err != nil {
				b.Fatal(err)
			}
			screen := be.sizes.Peek(d.Serial)
			b.Run("plugin", func(b *testing.B) {
				for b.Loop() {
					if _, err := be.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial}); err != nil {
						b.Fatal(err)
					}
				}
				report(b)
			})
			b.Run("sequential", func(b *testing.B) {
				dev, err := be.lookup(ctx, d.Serial)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := android.Observe(ctx, dev.dev, android.ObserveOptions{Screen: screen, Sequential: true}); err != nil {
						b.Fatal(err)
					}
				}
				report(b)
			})
			s := startADB(b, 0)
			s.connect(b, d.Serial)
			b.Run("server", func(b *testing.B) {
				dev := (&adb.ServerClient{Addr: s.Addr()}).Device(d.Serial)
				for b.Loop() {
					if _, err := android.Observe(ctx, dev, android.ObserveOptions{Screen: screen}); err != nil {
						b.Fatal(err)
					}
				}
				report(b)
			})
			b.Run("adb-binary", func(b *testing.B) {
				adbCmd := func(args ...string) {
					cmd := exec.CommandContext(ctx, s.Bin, append([]string{"-P", strconv.Itoa(s.Port), "-s", d.Serial}, args...)...)
					cmd.Env = s.Env
					if out, err := cmd.Output(); err != nil || len(out) == 0 {
						b.Fatalf("adb %v: %v", args, err)
					}
				}
				for b.Loop() {
					adbCmd("exec-out", "screencap", "-p")
					adbCmd("shell", "uiautomator", "dump", "/dev/tty")
					adbCmd("shell", "dumpsys", "window")
				}
				report(b)
			})
		})
	}
}

func report(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
}
