// Command phone plays the phone inside device-kvm's test guest: one
// simulated phone (plugins/device-sim/fleet) serving adb on
// 0.0.0.0:6100, exec'd by the initramfs /init.
//
// It listens on every address, not on 127.0.0.1 as simulated phones on
// the host do, because it runs inside the VM: the only network it sees is
// QEMU's user network (10.0.2.0/24), which nothing outside the VM can
// reach except through the host port device-kvm forwards, and QEMU binds
// that on 127.0.0.1. adb traffic arrives from the user network's gateway
// (10.0.2.2), so a loopback listener would never see it.
//
// It is built statically (CGO_ENABLED=0, -ldflags '-s -w') by the tests.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
)

func main() {
	listen := "0.0.0.0:6100"
	if len(os.Args) > 1 {
		listen = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f, err := fleet.Start(ctx, fleet.Options{Count: 1, Listen: listen, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "phone:", err)
		os.Exit(1)
	}
	defer f.Close()
	fmt.Fprintln(os.Stderr, "phone: serving adb on", listen)
	<-ctx.Done()
}
