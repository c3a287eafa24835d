package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// bootTry bounds one attempt to reach adbd while a guest boots: before
// the guest's network is up, QEMU's user network accepts the host
// connection and then holds it, so a long attempt would waste boot time.
const bootTry = 5 * time.Second

// backend is the plugin: the VMs it runs and the settings they follow.
//
// Lock order: backend.mu, then a vm's qmpMu. No QEMU or adb call is made
// while mu is held.
type backend struct {
	log *slog.Logger

	mu         sync.Mutex
	set        settings
	configured bool
	dialOpts   *adb.DialOptions
	vms        map[string]*vm
	booting    int // Provisions in flight, counted against max_vms
	sizes      android.SizeCache
}

func newBackend(log *slog.Logger) *backend {
	return &backend{log: log, vms: map[string]*vm{}}
}

// Configure applies the settings section. VMs already running keep the
// settings they were booted with; new ones follow the new settings. The
// first call, and any that changes state_dir, adopts the VMs a previous
// run left running there.
func (b *backend) Configure(ctx context.Context, configJSON []byte) error {
	set, err := parseConfig(configJSON)
	if err != nil {
		return err
	}
	opts, err := dialOptions(set.adbKey)
	if err != nil {
		return err
	}
	b.mu.Lock()
	rescan := !b.configured || b.set.stateDir != set.stateDir
	b.set, b.configured, b.dialOpts = set, true, opts
	known := map[string]bool{}
	for id := range b.vms {
		known[id] = true
	}
	b.mu.Unlock()
	if rescan {
		b.adoptAll(ctx, set.stateDir, known, opts)
	}
	b.trimSpares(ctx, set)
	return nil
}

// adoptAll adopts what scanStateDir finds.
func (b *backend) adoptAll(ctx context.Context, dir string, known map[string]bool, opts *adb.DialOptions) {
	found := scanStateDir(ctx, dir, known, opts, b.log)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range found {
		if _, dup := b.vms[v.rec.ID]; dup {
			continue
		}
		b.vms[v.rec.ID] = v
	}
}

// dialOptions loads the adb key: adb_key when set (created if missing),
// else ~/.android/adbkey when it exists, else none (guests that do not
// require authentication, such as the test guest).
func dialOptions(keyPath string) (*adb.DialOptions, error) {
	if keyPath != "" {
		k, err := adb.LoadOrCreateKey(keyPath)
		if err != nil {
			return nil, fmt.Errorf("device-kvm settings: adb_key: %w", err)
		}
		return &adb.DialOptions{Keys: []*rsa.PrivateKey{k}}, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return &adb.DialOptions{}, nil
	}
	k, err := adb.LoadKey(filepath.Join(home, ".android", "adbkey"))
	if err != nil {
		return &adb.DialOptions{}, nil
	}
	return &adb.DialOptions{Keys: []*rsa.PrivateKey{k}}, nil
}

// settings returns the current settings, the defaults when the host
// never configured the plugin.
func (b *backend) settings(ctx context.Context) (settings, *adb.DialOptions, error) {
	b.mu.Lock()
	configured := b.configured
	b.mu.Unlock()
	if !configured {
		if err := b.Configure(ctx, nil); err != nil {
			return settings{}, nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.set, b.dialOpts, nil
}

// engineStatus is "" when QEMU and qemu-img can be run, else why not.
func engineStatus(s settings) string {
	var missing []string
	for _, bin := range []string{s.qemu, s.qemuImg} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "device-kvm: QEMU is not installed (" + strings.Join(missing, ", ") + " not found; apt-get install qemu-system-x86 qemu-utils)"
}

// accelDescription says which accelerator new VMs get and why.
func accelDescription(s settings) string {
	a, err := resolveAccel(s.accel)
	if err != nil {
		return "unusable: " + err.Error()
	}
	return a
}

// vm finds a running VM by id.
func (b *backend) vm(ctx context.Context, id string) (*vm, error) {
	if _, _, err := b.settings(ctx); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "device-kvm: no device id")
	}
	b.mu.Lock()
	v, ok := b.vms[id]
	ok = ok && !v.rec.Spare
	b.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "device-kvm: unknown device %q", id)
	}
	if !v.alive() {
		return nil, status.Errorf(codes.Unavailable, "device-kvm: %s: qemu is not running (%s)", id, v.tail(logFile, 300))
	}
	return v, nil
}

func (b *backend) info(v *vm) *cpv1.DeviceInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	set := b.set
	labels := map[string]string{
		"backend": "kvm",
		"accel":   v.rec.Accel,
		"memory":  strconv.Itoa(v.rec.MemoryMiB),
		"cpus":    strconv.Itoa(v.rec.CPUs),
	}
	maps.Copy(labels, set.labels)
	maps.Copy(labels, v.rec.Labels)
	st := cpv1.DeviceState_DEVICE_STATE_READY
	if !v.alive() {
		st = cpv1.DeviceState_DEVICE_STATE_OFFLINE
	}
	d := &cpv1.DeviceInfo{Id: v.rec.ID, Labels: labels, State: st, AdbAddress: v.adbAddr(), Provisioned: true}
	if s := b.sizes.Peek(v.rec.ID); s != nil {
		d.Screen = s
		labels["resolution"] = fmt.Sprintf("%dx%d", s.GetWidth(), s.GetHeight())
	}
	return d
}

// List implements plugin.Device: every VM, booted or not; a missing QEMU
// shows in backend_status.
func (b *backend) List(ctx context.Context, _ *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	set, _, err := b.settings(ctx)
	if err != nil {
		return &cpv1.ListResponse{BackendStatus: err.Error()}, nil
	}
	b.mu.Lock()
	var vms []*vm
	for _, v := range b.vms {
		if !v.rec.Spare {
			vms = append(vms, v)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(vms, func(x, y *vm) int { return x.rec.Created.Compare(y.rec.Created) })
	out := &cpv1.ListResponse{BackendStatus: engineStatus(set)}
	for _, v := range vms {
		out.Devices = append(out.Devices, b.info(v))
	}
	return out, nil
}

// newID returns a fresh VM id, "kvm-" and 8 hex digits.
func newID() (string, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("vm id: %w", err)
	}
	return vmDirPrefix + hex.EncodeToString(r[:]), nil
}

// Provision implements plugin.Device: boot a VM, wait until adb answers
// and sys.boot_completed is 1, and return it. Options memory_mib and
// cpus override the settings for this VM.
func (b *backend) Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	set, opts, err := b.settings(ctx)
	if err != nil {
		return nil, err
	}
	if st := engineStatus(set); st != "" {
		return nil, status.Error(codes.FailedPrecondition, st)
	}
	sp, ignored, err := set.specFor(req.GetOptions())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "device-kvm: provision: %v", err)
	}
	if len(ignored) > 0 {
		b.log.Info("device-kvm: provision options ignored", "options", ignored)
	}
	if v := b.takeSpare(ctx, sp, req.GetLabels()); v != nil {
		return b.info(v), nil
	}
	b.mu.Lock()
	if len(b.vms)+b.booting >= set.maxVMs {
		n := len(b.vms) + b.booting
		b.mu.Unlock()
		return nil, status.Errorf(codes.ResourceExhausted, "device-kvm: %d vms running or booting, max_vms is %d", n, set.maxVMs)
	}
	b.booting++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.booting--
		b.mu.Unlock()
	}()
	id, err := newID()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	v, err := startVM(ctx, set, sp, id, maps.Clone(req.GetLabels()), b.log)
	if err != nil {
		return nil, fmt.Errorf("device-kvm: provision: %w", err)
	}
	v.adb = adb.NewRedialer(v.adbAddr(), opts)
	if err := b.waitBoot(ctx, v, set.bootTimeout); err != nil {
		if serr := v.stop(context.WithoutCancel(ctx), shutdownQuit, time.Second); serr != nil {
			b.log.Warn("device-kvm: stop a vm that did not boot", "vm", id, "err", serr)
		}
		return nil, fmt.Errorf("device-kvm: provision %s: %w", id, err)
	}
	v.rec.BootMs = time.Since(start).Milliseconds()
	if set.spares > 0 {
		if err := v.saveSnapshot(ctx, bootSnapshot); err != nil {
			b.log.Warn("device-kvm: no boot snapshot; this vm will not be kept as a spare", "vm", id, "err", err)
		}
	}
	if err := v.save(); err != nil {
		b.log.Warn("device-kvm: update vm record", "vm", id, "err", err)
	}
	if s, err := android.ScreenSize(ctx, v.adb); err == nil {
		b.sizes.Put(id, s)
	}
	b.mu.Lock()
	b.vms[id] = v
	b.mu.Unlock()
	b.log.Info("device-kvm: provisioned", "vm", id, "adb", v.adbAddr(), "accel", v.rec.Accel,
		"boot", time.Duration(v.rec.BootMs)*time.Millisecond)
	return b.info(v), nil
}

// waitBoot waits until the guest's adbd answers and it has booted, or
// QEMU exits, or timeout passes.
func (b *backend) waitBoot(ctx context.Context, v *vm, timeout time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no boot within boot_timeout %s", timeout))
	defer cancel()
	for {
		try, cancelTry := context.WithTimeout(ctx, bootTry)
		err := android.WaitBoot(try, v.adb)
		cancelTry()
		if err == nil {
			return nil
		}
		select {
		case <-v.exited:
			return fmt.Errorf("qemu exited while the guest booted: %s; console: %s", v.tail(logFile, 500), v.tail(consoleFile, 1500))
		default:
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last: %v); console: %s", context.Cause(ctx), err, v.tail(consoleFile, 1500))
		}
		_ = v.adb.Close() // a connection stuck in the handshake
	}
}

// Release implements plugin.Device: stop the VM (QMP quit, or powerdown
// with stop_timeout when shutdown is powerdown; then kill) and remove its
// directory, overlay included.
func (b *backend) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	set, _, err := b.settings(ctx)
	if err != nil {
		return nil, err
	}
	id := req.GetDeviceId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "device-kvm: no device id")
	}
	b.mu.Lock()
	v, ok := b.vms[id]
	ok = ok && !v.rec.Spare
	b.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "device-kvm: unknown device %q", id)
	}
	if b.park(ctx, v, set) {
		return &cpv1.ReleaseResponse{}, nil
	}
	if err := v.stop(ctx, set.shutdown, set.stopTimeout); err != nil {
		return nil, fmt.Errorf("device-kvm: release %s: %w", id, err)
	}
	b.mu.Lock()
	delete(b.vms, id)
	b.mu.Unlock()
	b.sizes.Forget(id)
	b.log.Info("device-kvm: released", "vm", id)
	return &cpv1.ReleaseResponse{}, nil
}

// stopAll stops every VM (tests, and a host that wants no VM left).
func (b *backend) stopAll(ctx context.Context) error {
	b.mu.Lock()
	vms := slices.Collect(maps.Values(b.vms))
	clear(b.vms)
	set := b.set
	b.mu.Unlock()
	var errs []error
	for _, v := range vms {
		errs = append(errs, v.stop(ctx, shutdownQuit, set.stopTimeout))
	}
	return errors.Join(errs...)
}

// Interface guards.
var (
	_ plugin.Device     = (*backend)(nil)
	_ plugin.Configurer = (*backend)(nil)
)
