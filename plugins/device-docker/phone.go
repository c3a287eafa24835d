package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// This file serves a provisioned container as a phone, the way
// device-adb serves any adb device: sdk/android over the device's
// persistent adb connection (an adb.Redialer, redialled after a drop).

// waitBoot waits until the phone answers adb and has booted.
func waitBoot(ctx context.Context, dev adb.Device) error { return android.WaitBoot(ctx, dev) }

// probeSize asks the booted phone its screen size (`wm size`): the image
// may not honour the size it was started with.
func (v *device) probeSize(ctx context.Context, log *slog.Logger) {
	s, err := android.ScreenSize(ctx, v.adb)
	if err != nil {
		log.Warn("device-docker: screen size", "device", v.id, "err", err)
		return
	}
	if old := v.size(); old != nil && (old.GetWidth() != s.GetWidth() || old.GetHeight() != s.GetHeight()) {
		log.Warn("device-docker: the phone's screen differs from the one requested", "device", v.id,
			"requested", fmt.Sprintf("%dx%d", old.GetWidth(), old.GetHeight()), "actual", fmt.Sprintf("%dx%d", s.GetWidth(), s.GetHeight()))
	}
	v.remember(s)
}

// Observe implements plugin.Device.
func (d *docker) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	dev, err := d.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("device-docker: observe %s: %w", dev.id, err)
	}
	obs, err := android.Observe(ctx, dev.adb, android.ObserveOptions{
		SkipScreenshot: req.GetSkipScreenshot(), SkipUI: req.GetSkipUi(), Screen: dev.size(),
	})
	if err != nil {
		return nil, d.deviceErr(ctx, "observe", dev, err)
	}
	dev.remember(obs.GetScreen())
	return obs, nil
}

// Act implements plugin.Device.
func (d *docker) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	dev, err := d.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	a := req.GetAction()
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_UNSPECIFIED:
		return nil, status.Errorf(codes.InvalidArgument, "device-docker: act on %s: no action type", dev.id)
	case cpv1.ActionType_ACTION_TYPE_WAIT, cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
	default:
		if _, err := android.Commands(a, dev.size(), android.TextADBKeyboard); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "device-docker: act on %s: %v", dev.id, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("device-docker: act on %s: %w", dev.id, err)
	}
	r, err := android.Act(ctx, dev.adb, a, dev.size())
	if err != nil {
		return nil, d.deviceErr(ctx, "act on", dev, err)
	}
	return r, nil
}

// Shell implements plugin.Device.
func (d *docker) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	dev, err := d.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	timeout := defaultShellTimeout
	if ms := req.GetTimeoutMs(); ms > 0 {
		timeout = min(time.Duration(ms)*time.Millisecond, maxShellTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, errb, code, err := dev.adb.Shell(ctx, req.GetCommand())
	if err != nil {
		return nil, d.deviceErr(ctx, "shell on", dev, err)
	}
	return &cpv1.ShellResponse{Stdout: out, Stderr: errb, ExitCode: int32(code)}, nil
}

// Health implements plugin.Device. For the backend it reports whether
// the engine answers; for a device, boot, battery and screen over adb
// plus the container's state.
func (d *docker) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if req.GetDeviceId() == "" {
		eng, set, err := d.current(ctx)
		d.mu.Lock()
		n := len(d.devices)
		d.mu.Unlock()
		detail := map[string]string{"endpoint": set.endpoint, "devices": strconv.Itoa(n), "instance": set.instance}
		if err != nil {
			return &cpv1.HealthResponse{Ok: false, Message: err.Error(), Detail: detail}, nil
		}
		cli, err := eng.client(ctx)
		if err != nil {
			return &cpv1.HealthResponse{Ok: false, Message: err.Error(), Detail: detail}, nil
		}
		detail["api_version"] = cli.ClientVersion()
		return &cpv1.HealthResponse{Ok: true, Message: fmt.Sprintf("docker engine at %s, %d devices", set.endpoint, n), Detail: detail}, nil
	}
	dev, err := d.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	eng, set, _ := d.current(ctx)
	cstate, _, cerr := eng.inspect(ctx, dev.containerID, set.adbPort)
	h, err := android.Health(ctx, dev.adb)
	if err != nil {
		msg := fmt.Sprintf("adb does not answer: %v", err)
		if cerr == nil && cstate != "running" {
			msg = fmt.Sprintf("container is %s", cstate)
		}
		dev.setState(cpv1.DeviceState_DEVICE_STATE_UNHEALTHY)
		return &cpv1.HealthResponse{Ok: false, Message: msg, Detail: map[string]string{
			"container": string(cstate), "adb_address": dev.addr}}, nil
	}
	if h.Detail == nil {
		h.Detail = map[string]string{}
	}
	h.Detail["adb_address"] = dev.addr
	if cerr == nil {
		h.Detail["container"] = string(cstate)
	}
	if h.GetOk() {
		dev.setState(cpv1.DeviceState_DEVICE_STATE_READY)
	}
	return h, nil
}

// deviceErr wraps an error from the phone: ctx's own error as is, a
// phone that stopped answering as Unavailable.
func (d *docker) deviceErr(ctx context.Context, what string, dev *device, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("device-docker: %s %s: %w", what, dev.id, err)
	}
	return status.Errorf(codes.Unavailable, "device-docker: %s %s: %v", what, dev.id, err)
}

// size is the screen size, when known.
func (v *device) size() *cpv1.ScreenSize {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.screen
}

// remember keeps the size an observation reported.
func (v *device) remember(s *cpv1.ScreenSize) {
	if s.GetWidth() <= 0 || s.GetHeight() <= 0 {
		return
	}
	v.mu.Lock()
	v.screen = s
	v.mu.Unlock()
}
