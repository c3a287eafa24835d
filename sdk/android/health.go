package android

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Commands Health sends.
const (
	bootCmd    = "getprop sys.boot_completed"
	batteryCmd = "dumpsys battery"
	powerCmd   = "dumpsys power | grep -E 'mWakefulness=|Display Power: state=|mScreenOn='"
)

// Health checks dev: sys.boot_completed, the battery (`dumpsys battery`)
// and the screen (`dumpsys power`), as concurrent streams. ok is true
// when the device has booted; detail holds boot_completed ("1"/"0"),
// battery (percent), battery_status, powered, screen_on and wakefulness
// (what could be read). An error means the device did not answer.
func Health(ctx context.Context, dev adb.Device) (*cpv1.HealthResponse, error) {
	if dev == nil {
		return nil, errors.New("android: health: no device")
	}
	var boot, battery, power string
	err := runJobs([]func() error{
		func() error {
			out, err := run(ctx, dev, bootCmd)
			boot = strings.TrimSpace(out)
			return err
		},
		func() error {
			out, err := runGrep(ctx, dev, batteryCmd) // a service missing while booting is not an error here
			battery = out
			return err
		},
		func() error {
			out, err := runGrep(ctx, dev, powerCmd)
			power = out
			return err
		},
	}, false)
	if err != nil {
		return nil, fmt.Errorf("android: health: %w", err)
	}
	detail := map[string]string{"boot_completed": "0"}
	booted := boot == "1"
	if booted {
		detail["boot_completed"] = "1"
	}
	if b, ok := ParseBattery(battery); ok {
		detail["battery"] = strconv.Itoa(b.Percent())
		detail["battery_status"] = strconv.Itoa(b.Status)
		detail["powered"] = strconv.FormatBool(b.Powered)
	}
	if p, ok := ParsePower(power); ok {
		detail["screen_on"] = strconv.FormatBool(p.ScreenOn)
		if p.Wakefulness != "" {
			detail["wakefulness"] = p.Wakefulness
		}
	}
	msg := "booted"
	if !booted {
		msg = "booting"
	}
	return &cpv1.HealthResponse{Ok: booted, Message: msg, Detail: detail}, nil
}

// BootPoll is how often WaitBoot asks.
const BootPoll = 250 * time.Millisecond

// WaitBoot polls `getprop sys.boot_completed` until it is 1 or ctx ends.
// Errors in between (adbd not up yet, a connection that dropped) are
// retried; with ctx's error WaitBoot returns the last of them. Give it a
// dev that redials (adb.Redialer, adb.ServerDevice): a dead *adb.Conn
// never recovers.
func WaitBoot(ctx context.Context, dev adb.Device) error {
	if dev == nil {
		return errors.New("android: wait boot: no device")
	}
	t := time.NewTicker(BootPoll)
	defer t.Stop()
	var last error
	for {
		out, err := run(ctx, dev, bootCmd)
		if err == nil && strings.TrimSpace(out) == "1" {
			return nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("sys.boot_completed is %q", strings.TrimSpace(out))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("android: wait boot: %w (last: %w)", ctx.Err(), last)
		case <-t.C:
		}
	}
}
