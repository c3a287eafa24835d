package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/android"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Shell timeouts when the request gives none, and at most.
const (
	defaultShellTimeout = 30 * time.Second
	maxShellTimeout     = 10 * time.Minute
)

// Observe implements plugin.Device: sdk/android's Observe over the VM's
// persistent adb connection.
func (b *backend) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	v, err := b.vm(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	obs, err := android.Observe(ctx, v.adb, android.ObserveOptions{
		SkipScreenshot: req.GetSkipScreenshot(), SkipUI: req.GetSkipUi(), Screen: b.sizes.Peek(v.rec.ID),
	})
	if err != nil {
		return nil, b.deviceErr(v, "observe", err)
	}
	b.sizes.Put(v.rec.ID, obs.GetScreen())
	return obs, nil
}

// Act implements plugin.Device: sdk/android's Act. An action that cannot
// be mapped to commands is InvalidArgument.
func (b *backend) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	v, err := b.vm(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	a := req.GetAction()
	if a == nil {
		return nil, status.Error(codes.InvalidArgument, "device-kvm: act: no action")
	}
	screen, err := b.sizes.Get(ctx, v.rec.ID, v.adb)
	if err != nil {
		return nil, b.deviceErr(v, "act", err)
	}
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_WAIT, cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
	default:
		if _, err := android.Commands(a, screen, android.TextADBKeyboard); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "device-kvm: act on %s: %v", v.rec.ID, err)
		}
	}
	resp, err := android.Act(ctx, v.adb, a, screen)
	if err != nil {
		return nil, b.deviceErr(v, "act", err)
	}
	return resp, nil
}

// Shell implements plugin.Device.
func (b *backend) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	v, err := b.vm(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	timeout := defaultShellTimeout
	if ms := req.GetTimeoutMs(); ms > 0 {
		timeout = min(time.Duration(ms)*time.Millisecond, maxShellTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out, errb bytes.Buffer
	code, err := v.adb.RunShell(ctx, req.GetCommand(), nil, &out, &errb)
	if err != nil {
		return nil, b.deviceErr(v, "shell", err)
	}
	return &cpv1.ShellResponse{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: int32(code)}, nil
}

// Health implements plugin.Device. For the backend: whether QEMU is
// installed, the accelerator new VMs get and how many VMs run. For a VM:
// QMP's run state and sdk/android's checks (boot_completed, battery,
// screen) over adb.
func (b *backend) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	set, _, err := b.settings(ctx)
	if err != nil {
		return &cpv1.HealthResponse{Ok: false, Message: err.Error()}, nil
	}
	if req.GetDeviceId() == "" {
		b.mu.Lock()
		n, spares := 0, 0
		for _, v := range b.vms {
			if v.rec.Spare {
				spares++
			} else {
				n++
			}
		}
		b.mu.Unlock()
		detail := map[string]string{"vms": strconv.Itoa(n), "spares": strconv.Itoa(spares), "state_dir": set.stateDir, "accel": accelDescription(set), "qemu": set.qemu}
		if st := engineStatus(set); st != "" {
			return &cpv1.HealthResponse{Ok: false, Message: st, Detail: detail}, nil
		}
		return &cpv1.HealthResponse{Ok: true, Message: fmt.Sprintf("%d vms", n), Detail: detail}, nil
	}
	v, err := b.vm(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	detail := map[string]string{
		"adb_address": v.adbAddr(), "accel": v.rec.Accel, "pid": strconv.Itoa(v.rec.PID),
		"boot_ms": strconv.FormatInt(v.rec.BootMs, 10),
	}
	qst, err := v.status(ctx)
	if err != nil {
		return &cpv1.HealthResponse{Ok: false, Message: "qmp: " + err.Error(), Detail: detail}, nil
	}
	detail["vm_status"] = qst.Status
	if !qst.Running {
		return &cpv1.HealthResponse{Ok: false, Message: "vm " + qst.Status, Detail: detail}, nil
	}
	h, err := android.Health(ctx, v.adb)
	if err != nil {
		return &cpv1.HealthResponse{Ok: false, Message: "adb: " + err.Error(), Detail: detail}, nil
	}
	for k, val := range detail {
		h.Detail[k] = val
	}
	return h, nil
}

// deviceErr marks a failure to reach a VM that is gone as Unavailable and
// wraps the rest with the operation and VM.
func (b *backend) deviceErr(v *vm, op string, err error) error {
	if !v.alive() {
		return status.Errorf(codes.Unavailable, "device-kvm: %s on %s: qemu exited: %v", op, v.rec.ID, err)
	}
	return fmt.Errorf("device-kvm: %s on %s: %w", op, v.rec.ID, err)
}
