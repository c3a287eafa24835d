package android_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// An agent step over adb: observe a phone, launch an app, observe again.
// The phone here is a simulated one; any adbd (a network-adb phone, an
// emulator, redroid) is driven the same way.
func Example() {
	ctx := context.Background()
	f, err := fleet.Start(ctx, fleet.Options{Count: 1, Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	dev := adb.NewRedialer(f.Devices()[0].Serial, nil) // one persistent connection
	defer func() { _ = dev.Close() }()

	var sizes android.SizeCache
	screen, err := sizes.Get(ctx, "phone-1", dev)
	if err != nil {
		fmt.Println(err)
		return
	}
	obs, err := android.Observe(ctx, dev, android.ObserveOptions{Screen: screen})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(obs.GetCurrentApp(), obs.GetScreen().GetWidth(), obs.GetScreen().GetHeight(), len(obs.GetScreenshotSha256()))

	r, err := android.Act(ctx, dev, &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, App: "微信"}, screen)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.GetMessage())
	obs, err = android.Observe(ctx, dev, android.ObserveOptions{Screen: screen, SkipScreenshot: true, SkipUI: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(obs.GetCurrentApp(), obs.GetCurrentAppName())
	// Output:
	// com.android.launcher3 1080 2400 64
	// monkey -p com.tencent.mm -c android.intent.category.LAUNCHER 1
	// com.tencent.mm 微信
}
