package android_test

import (
	"context"
	"testing"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BenchmarkObserve compares concurrent and sequential streams on one
// persistent connection, with a real phone's latencies (package phone's
// "phone" profile: screencap ≈150 ms, UI dump ≈100 ms).
func BenchmarkObserve(b *testing.B) {
	for _, prof := range []string{"instant", "phone"} {
		p, err := phone.ProfileByName(prof)
		if err != nil {
			b.Fatal(err)
		}
		_, dev := startPhone(b, func(o *fleet.Options) { o.Profile = p })
		screen := &cpv1.ScreenSize{Width: 1080, Height: 2400}
		for _, seq := range []bool{false, true} {
			name := prof + "/concurrent"
			if seq {
				name = prof + "/sequential"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := android.Observe(context.Background(), dev, android.ObserveOptions{Screen: screen, Sequential: seq}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
			})
		}
	}
}

// BenchmarkDumpUI compares `uiautomator dump /dev/tty` with a dump to a
// file read back by cat, on one persistent connection.
func BenchmarkDumpUI(b *testing.B) {
	_, dev := startPhone(b)
	for name, dump := range map[string]func(context.Context, adb.Device) (string, error){"tty": android.DumpUITTY, "file": android.DumpUI} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := dump(context.Background(), dev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
