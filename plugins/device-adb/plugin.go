package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Shell timeouts when the request gives none, and at most.
const (
	defaultShellTimeout = 30 * time.Second
	maxShellTimeout     = 10 * time.Minute
	// listParallel bounds how many devices List asks at once.
	listParallel = 16
)

// infoCmd prints what List labels a device with.
const infoCmd = "getprop ro.product.model; getprop ro.build.version.release; wm size"

var errNoID = status.Error(codes.InvalidArgument, "device-adb: no device id")

func unknownDevice(id string) error {
	return status.Errorf(codes.NotFound, "device-adb: unknown device %q (not a configured address and not on the adb server)", id)
}

// deviceErr classifies an error from a device: a broken or refused
// connection is Unavailable (the pool retries elsewhere), text the device
// cannot type is FailedPrecondition, a context error keeps its meaning.
func deviceErr(op string, d *device, err error) error {
	msg := fmt.Sprintf("device-adb: %s %s: %v", op, d.id, err)
	var ne net.Error
	var se *adb.ServerError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("device-adb: %s %s: %w", op, d.id, err)
	case errors.Is(err, android.ErrNonASCII):
		return status.Error(codes.FailedPrecondition, msg)
	case errors.Is(err, adb.ErrClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed),
		errors.As(err, &ne), errors.As(err, &se):
		return status.Error(codes.Unavailable, msg)
	}
	return fmt.Errorf("device-adb: %s %s: %w", op, d.id, err)
}

// staticInfo returns d's model, Android version and size, asking once.
func (b *backend) staticInfo(ctx context.Context, d *device) (*staticInfo, error) {
	d.mu.Lock()
	si := d.info
	d.mu.Unlock()
	if si != nil {
		return si, nil
	}
	out, _, _, err := d.dev.Shell(ctx, infoCmd)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitN(string(out), "\n", 3)
	if len(lines) < 3 {
		return nil, fmt.Errorf("unexpected answer to %q: %q", infoCmd, out)
	}
	w, h, ok := android.ParseWMSize(lines[2])
	if !ok {
		return nil, fmt.Errorf("no screen size yet (%q)", strings.TrimSpace(lines[2]))
	}
	si = &staticInfo{model: strings.TrimSpace(lines[0]), android: strings.TrimSpace(lines[1]), width: w, height: h}
	d.mu.Lock()
	d.info = si
	d.mu.Unlock()
	b.sizes.Put(d.id, &cpv1.ScreenSize{Width: int32(w), Height: int32(h)})
	return si, nil
}

// describe builds d's DeviceInfo, asking the device what it has not yet.
func (b *backend) describe(ctx context.Context, d *device, set settings) *cpv1.DeviceInfo {
	labels := map[string]string{"backend": "adb", "transport": d.transport}
	maps.Copy(labels, set.labels)
	info := &cpv1.DeviceInfo{Id: d.id, Labels: labels, State: cpv1.DeviceState_DEVICE_STATE_READY}
	if _, _, err := net.SplitHostPort(d.id); err == nil {
		info.AdbAddress = d.id
	}
	d.mu.Lock()
	state := d.state
	d.mu.Unlock()
	if d.transport == transportServer && state != "device" {
		labels["adb_state"] = state
		switch state {
		case "unauthorized":
			info.State = cpv1.DeviceState_DEVICE_STATE_UNHEALTHY
		case "authorizing", "connecting", "recovery", "bootloader", "sideload", "rescue":
			info.State = cpv1.DeviceState_DEVICE_STATE_BOOTING
		default:
			info.State = cpv1.DeviceState_DEVICE_STATE_OFFLINE
		}
		return info
	}
	ctx, cancel := context.WithTimeout(ctx, set.connectTimeout)
	defer cancel()
	if err := d.connect(ctx); err != nil {
		info.State = cpv1.DeviceState_DEVICE_STATE_OFFLINE
		labels["error"] = truncate(err.Error(), 200)
		return info
	}
	si, err := b.staticInfo(ctx, d)
	if errors.Is(err, adb.ErrClosed) {
		// The connection died before its reader noticed (the phone just
		// stopped): dial once more, so a phone that is gone shows
		// OFFLINE rather than BOOTING.
		if err = d.connect(ctx); err != nil {
			info.State = cpv1.DeviceState_DEVICE_STATE_OFFLINE
			labels["error"] = truncate(err.Error(), 200)
			return info
		}
		si, err = b.staticInfo(ctx, d)
	}
	if err != nil {
		info.State = cpv1.DeviceState_DEVICE_STATE_BOOTING
		labels["error"] = truncate(err.Error(), 200)
		return info
	}
	labels["model"], labels["android"] = si.model, si.android
	labels["resolution"] = fmt.Sprintf("%dx%d", si.width, si.height)
	info.Screen = &cpv1.ScreenSize{Width: int32(si.width), Height: int32(si.height)}
	return info
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// List implements plugin.Device: configured addresses and the adb
// server's devices. An adb server that does not answer shows in
// backend_status.
func (b *backend) List(ctx context.Context, _ *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	b.ensure(ctx)
	b.refreshServerStates(ctx)
	devs, set, serverStatus := b.devices(ctx)
	out := &cpv1.ListResponse{Devices: make([]*cpv1.DeviceInfo, len(devs)), BackendStatus: serverStatus}
	sem := make(chan struct{}, listParallel)
	var wg sync.WaitGroup
	for i, d := range devs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out.Devices[i] = b.describe(ctx, d, set)
		})
	}
	wg.Wait()
	return out, nil
}

// Provision implements plugin.Device: physical phones are not created.
func (b *backend) Provision(context.Context, *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	return nil, fmt.Errorf("device-adb: provision: physical phones are not provisioned; connect them with `adb connect` or list them in plugins.config.device-adb.addresses: %w", errors.ErrUnsupported)
}

// Release implements plugin.Device: nothing to give back for a known
// phone.
func (b *backend) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	if _, err := b.lookup(ctx, req.GetDeviceId()); err != nil {
		return nil, err
	}
	return &cpv1.ReleaseResponse{}, nil
}

// Observe implements plugin.Device through android.Observe: one round of
// concurrent streams (screenshot, UI dump, focus; screen size the first
// time).
func (b *backend) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	d, err := b.lookup(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	obs, err := android.Observe(ctx, d.dev, android.ObserveOptions{
		SkipScreenshot: req.GetSkipScreenshot(), SkipUI: req.GetSkipUi(), Screen: b.sizes.Peek(d.id),
	})
	if err != nil {
		return nil, deviceErr("observe", d, err)
	}
	d.up()
	b.sizes.Put(d.id, obs.GetScreen())
	return obs, nil
}

// Act implements plugin.Device through android.Act.
func (b *backend) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	d, err := b.lookup(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	a := req.GetAction()
	if a == nil {
		return nil, status.Error(codes.InvalidArgument, "device-adb: act: no action")
	}
	screen := b.sizes.Peek(d.id)
	// Refuse a malformed action before touching the device.
	if _, err := android.Commands(a, screen, android.TextADBKeyboard); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "device-adb: act on %s: %v", d.id, err)
	}
	if screen == nil && a.GetPoint() != nil {
		if screen, err = b.sizes.Get(ctx, d.id, d.dev); err != nil {
			return nil, deviceErr("act", d, err)
		}
		if _, err := android.Commands(a, screen, android.TextADBKeyboard); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "device-adb: act on %s: %v", d.id, err)
		}
	}
	r, err := android.Act(ctx, d.dev, a, screen)
	if err != nil {
		return nil, deviceErr("act", d, err)
	}
	d.up()
	return r, nil
}

// Shell implements plugin.Device.
func (b *backend) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	d, err := b.lookup(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.GetCommand()) == "" {
		return nil, status.Error(codes.InvalidArgument, "device-adb: shell: no command")
	}
	timeout := defaultShellTimeout
	if ms := req.GetTimeoutMs(); ms > 0 {
		timeout = min(time.Duration(ms)*time.Millisecond, maxShellTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, errb, code, err := d.dev.Shell(ctx, req.GetCommand())
	if err != nil {
		return nil, deviceErr("shell", d, err)
	}
	d.up()
	return &cpv1.ShellResponse{Stdout: out, Stderr: errb, ExitCode: int32(code)}, nil
}

// Health implements plugin.Device: the backend (no device id) or one
// phone through android.Health.
func (b *backend) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if req.GetDeviceId() == "" {
		devs, set, serverStatus := b.devices(ctx)
		direct := 0
		for _, d := range devs {
			if d.transport == transportDirect {
				direct++
			}
		}
		detail := map[string]string{
			"devices": strconv.Itoa(len(devs)), "direct": strconv.Itoa(direct),
			"server": strconv.Itoa(len(devs) - direct), "adb_server": set.server,
		}
		msg := fmt.Sprintf("%d phones (%d direct, %d via the adb server)", len(devs), direct, len(devs)-direct)
		if serverStatus != "" {
			detail["adb_server_status"] = serverStatus
			msg += "; " + serverStatus
		}
		return &cpv1.HealthResponse{Ok: true, Message: msg, Detail: detail}, nil
	}
	d, err := b.lookup(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	h, err := android.Health(ctx, d.dev)
	if err != nil {
		return nil, deviceErr("health", d, err)
	}
	d.up()
	h.Detail["transport"] = d.transport
	if _, _, err := net.SplitHostPort(d.id); err == nil {
		h.Detail["adb_address"] = d.id
	}
	return h, nil
}

// Interface guards.
var (
	_ plugin.Device     = (*backend)(nil)
	_ plugin.Configurer = (*backend)(nil)
)
