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
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Timeouts.
const (
	releaseGrace        = 5 * time.Second // Android's shutdown before SIGKILL
	adoptTimeout        = 30 * time.Second
	defaultShellTimeout = 30 * time.Second
	maxShellTimeout     = 10 * time.Minute
	portRetries         = 3 // new containers when the engine picks 5555–5585
	containerPoll       = 500 * time.Millisecond
)

// docker is the plugin: containers on one engine, each a phone.
//
// Lock order: docker.adoptMu, docker.mu, device.mu. Calls into the
// engine or adb are made without holding docker.mu; adoptMu is held
// across the engine calls of one adoption, so that it runs once and
// before this run's first container exists.
type docker struct {
	log  *slog.Logger
	life context.Context // ends at Close, and with it background waits
	stop context.CancelFunc

	adoptMu sync.Mutex
	mu      sync.Mutex
	set     settings
	eng     *engine
	keys    []*rsa.PrivateKey
	devices map[string]*device
	pending int  // provisions under way, counted against max_devices
	adopted bool // the engine's labelled containers were adopted
	closed  bool
}

// device is one container serving a phone.
type device struct {
	id          string // container name, also the device id
	containerID string
	addr        string // 127.0.0.1:<host port>
	adb         *adb.Redialer
	labels      map[string]string
	dpi         int
	added       time.Time

	mu     sync.Mutex
	state  cpv1.DeviceState
	screen *cpv1.ScreenSize
}

func newDocker(log *slog.Logger) *docker {
	life, stop := context.WithCancel(context.Background())
	return &docker{log: log, life: life, stop: stop, devices: map[string]*device{}}
}

// Configure implements plugin.Configurer. The engine is not contacted
// here: an unreachable engine must not stop the plugin from loading. A
// changed endpoint or instance forgets the devices of the old one (their
// containers keep running; a plugin configured for them adopts them).
func (d *docker) Configure(ctx context.Context, configJSON []byte) error {
	set, err := parseConfig(configJSON)
	if err != nil {
		return err
	}
	keys, err := loadKeys(set.adbKey)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.eng != nil && (d.set.endpoint != set.endpoint || d.set.apiVersion != set.apiVersion || d.set.instance != set.instance) {
		d.log.Info("device-docker: engine or instance changed; forgetting devices", "endpoint", set.endpoint, "instance", set.instance)
		for _, dev := range d.devices {
			_ = dev.adb.Close()
		}
		clear(d.devices)
		d.eng.Close()
		d.eng, d.adopted = nil, false
	}
	if d.eng == nil {
		d.eng = newEngine(set.endpoint, set.apiVersion, d.log)
	}
	d.set, d.keys = set, keys
	return nil
}

// loadKeys loads (or creates) the adb key phones that require
// authentication are offered; a key that cannot be had is not fatal,
// since redroid and the simulated phones do not ask for one.
func loadKeys(path string) ([]*rsa.PrivateKey, error) {
	if path == "" {
		return nil, nil
	}
	k, err := adb.LoadOrCreateKey(path)
	if err != nil {
		return nil, fmt.Errorf("device-docker settings: adb_key %s: %w", path, err)
	}
	return []*rsa.PrivateKey{k}, nil
}

// current returns the engine and settings, configuring defaults when the
// host never configured the plugin, and adopts the engine's labelled
// containers once it answers.
func (d *docker) current(ctx context.Context) (*engine, settings, error) {
	d.mu.Lock()
	if d.eng == nil {
		set, _ := parseConfig(nil)
		d.set, d.eng = set, newEngine(set.endpoint, set.apiVersion, d.log)
	}
	eng, set, adopted := d.eng, d.set, d.adopted
	d.mu.Unlock()
	if adopted {
		return eng, set, nil
	}
	d.adoptMu.Lock()
	defer d.adoptMu.Unlock()
	d.mu.Lock()
	adopted = d.adopted && d.eng == eng
	d.mu.Unlock()
	if adopted {
		return eng, set, nil
	}
	if err := d.adopt(ctx, eng, set); err != nil {
		return eng, set, err
	}
	return eng, set, nil
}

// newDevice builds a device from a container's labels.
func (d *docker) newDevice(id, containerID string, hostPort int, labels map[string]string) *device {
	d.mu.Lock()
	keys := d.keys
	d.mu.Unlock()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort))
	dev := &device{
		id: id, containerID: containerID, addr: addr,
		adb:    adb.NewRedialer(addr, &adb.DialOptions{Keys: keys, Logger: d.log}),
		labels: map[string]string{}, added: time.Now(),
	}
	w, _ := strconv.Atoi(labels[labelWidth])
	h, _ := strconv.Atoi(labels[labelHeight])
	if w > 0 && h > 0 {
		dev.screen = &cpv1.ScreenSize{Width: int32(w), Height: int32(h)}
	}
	dev.dpi, _ = strconv.Atoi(labels[labelDPI])
	for k, v := range labels {
		if name, ok := strings.CutPrefix(k, labelUserPfx); ok {
			dev.labels[name] = v
		}
	}
	return dev
}

func (v *device) getState() cpv1.DeviceState {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.state
}

func (v *device) setState(s cpv1.DeviceState) {
	v.mu.Lock()
	v.state = s
	v.mu.Unlock()
}

func (v *device) info() *cpv1.DeviceInfo {
	v.mu.Lock()
	st := v.state
	v.mu.Unlock()
	screen := v.size()
	labels := map[string]string{"backend": "docker"}
	if screen != nil {
		labels["resolution"] = fmt.Sprintf("%dx%d", screen.GetWidth(), screen.GetHeight())
	}
	if v.dpi > 0 {
		labels["dpi"] = strconv.Itoa(v.dpi)
	}
	maps.Copy(labels, v.labels)
	return &cpv1.DeviceInfo{Id: v.id, Labels: labels, State: st, Screen: screen, AdbAddress: v.addr, Provisioned: true}
}

// device finds a device by id.
func (d *docker) device(ctx context.Context, id string) (*device, error) {
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "device-docker: no device id")
	}
	if _, _, err := d.current(ctx); err != nil && !errors.Is(err, errUnreachable) {
		d.log.Debug("device-docker: adopt", "err", err)
	}
	d.mu.Lock()
	dev, ok := d.devices[id]
	d.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "device-docker: unknown device %q", id)
	}
	return dev, nil
}

// List implements plugin.Device. An unreachable engine is reported in
// backend_status, with the devices known from before.
func (d *docker) List(ctx context.Context, _ *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	out := &cpv1.ListResponse{}
	eng, set, err := d.current(ctx)
	if err == nil {
		err = d.sync(ctx, eng, set)
	}
	if err != nil {
		out.BackendStatus = err.Error()
	}
	d.mu.Lock()
	devs := slices.Collect(maps.Values(d.devices))
	d.mu.Unlock()
	slices.SortFunc(devs, func(a, b *device) int { return strings.Compare(a.id, b.id) })
	for _, dev := range devs {
		out.Devices = append(out.Devices, dev.info())
	}
	return out, nil
}

// Provision implements plugin.Device: a new container, started, with
// adb answering and Android booted.
func (d *docker) Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	eng, set, err := d.current(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "device-docker: provision: %v", err)
	}
	sp, err := set.spec.withOptions(req.GetOptions())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "device-docker: provision: %v", err)
	}
	d.mu.Lock()
	n := len(d.devices) + d.pending
	if n >= set.maxDevices {
		d.mu.Unlock()
		return nil, status.Errorf(codes.ResourceExhausted, "device-docker: provision: %d devices already (max_devices)", n)
	}
	d.pending++ // until the device is in d.devices or the provision failed
	d.mu.Unlock()
	pending := true
	defer func() {
		if pending {
			d.mu.Lock()
			d.pending--
			d.mu.Unlock()
		}
	}()
	id, err := newID()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		labelManaged: "true", labelInstance: set.instance, labelDevice: id,
		labelADBPort: strconv.Itoa(set.adbPort),
		labelWidth:   strconv.Itoa(sp.width), labelHeight: strconv.Itoa(sp.height), labelDPI: strconv.Itoa(sp.dpi),
	}
	for k, v := range set.labels {
		labels[labelUserPfx+k] = v
	}
	for k, v := range req.GetLabels() {
		labels[labelUserPfx+k] = v
	}
	cs := createSpec{
		name: id, image: sp.image, cmd: sp.expand(set.command, set.adbPort), labels: labels,
		adbPort: set.adbPort, memoryMiB: sp.memoryMiB, cpus: sp.cpus, privileged: set.privileged, pull: set.pull,
	}
	if sp.gpu == "host" {
		cs.devices = set.gpuDevices
	}
	cid, hp, err := d.start(ctx, eng, cs)
	switch {
	case err == nil:
	case errors.Is(err, errUnreachable):
		return nil, status.Errorf(codes.Unavailable, "device-docker: provision: %v", err)
	case cerrdefs.IsNotFound(err):
		return nil, status.Errorf(codes.FailedPrecondition, "device-docker: provision: %v", err)
	default:
		return nil, fmt.Errorf("device-docker: provision: %w", err)
	}
	dev := d.newDevice(id, cid, hp, labels)
	dev.state = cpv1.DeviceState_DEVICE_STATE_BOOTING
	d.mu.Lock()
	d.devices[id] = dev
	d.pending--
	pending = false
	d.mu.Unlock()
	d.log.Info("device-docker: container started; waiting for boot", "device", id, "container", shortID(cid), "adb", dev.addr, "image", sp.image)
	bctx, cancel := context.WithTimeout(ctx, set.bootTimeout)
	defer cancel()
	start := time.Now()
	if err := d.waitReady(bctx, eng, dev, set.adbPort); err != nil {
		logs := eng.logs(context.WithoutCancel(ctx), cid)
		d.drop(context.WithoutCancel(ctx), eng, dev)
		return nil, fmt.Errorf("device-docker: provision %s: waiting for boot: %w (container output: %s)", id, err, printable(logs))
	}
	dev.probeSize(bctx, d.log)
	dev.setState(cpv1.DeviceState_DEVICE_STATE_READY)
	d.log.Info("device-docker: provisioned", "device", id, "adb", dev.addr, "boot", time.Since(start).Round(time.Millisecond))
	return dev.info(), nil
}

// waitReady waits for the phone to boot, and gives up early when its
// container stops running.
func (d *docker) waitReady(ctx context.Context, eng *engine, dev *device, adbPort int) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(containerPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st, _, err := eng.inspect(ctx, dev.containerID, adbPort)
			if err == nil && st != container.StateRunning && st != container.StateCreated && st != container.StateRestarting {
				cancel(fmt.Errorf("container %s is %s", dev.id, st))
				return
			}
		}
	}()
	err := waitBoot(ctx, dev.adb)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return err
}

// start runs the container and returns its ID and adb host port. If the
// engine published adb on 5555–5585 (ports the adb server claims for
// emulators), the container is replaced.
func (d *docker) start(ctx context.Context, eng *engine, cs createSpec) (string, int, error) {
	for range portRetries {
		cid, err := eng.run(ctx, cs)
		if err != nil {
			return "", 0, err
		}
		hp, err := eng.hostPort(ctx, cid, cs.adbPort)
		if err != nil {
			logs := eng.logs(context.WithoutCancel(ctx), cid)
			eng.remove(context.WithoutCancel(ctx), cid)
			return "", 0, fmt.Errorf("%w (container output: %s)", err, printable(logs))
		}
		if !inEmulatorRange(hp) {
			return cid, hp, nil
		}
		d.log.Info("device-docker: engine published adb on an emulator port; replacing the container", "port", hp)
		eng.remove(context.WithoutCancel(ctx), cid)
	}
	return "", 0, fmt.Errorf("the engine kept publishing adb on ports %d–%d", emulatorPortLo, emulatorPortHi)
}

// drop forgets a device and removes its container.
func (d *docker) drop(ctx context.Context, eng *engine, dev *device) {
	d.mu.Lock()
	delete(d.devices, dev.id)
	d.mu.Unlock()
	_ = dev.adb.Close()
	eng.remove(ctx, dev.containerID)
}

// Release implements plugin.Device: stops and removes the container.
func (d *docker) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	dev, err := d.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	eng, _, _ := d.current(ctx)
	_ = dev.adb.Close()
	if err := eng.stopRemove(ctx, dev.containerID, releaseGrace); err != nil {
		return nil, fmt.Errorf("device-docker: release %s: %w", dev.id, err)
	}
	d.mu.Lock()
	delete(d.devices, dev.id)
	d.mu.Unlock()
	d.log.Info("device-docker: released", "device", dev.id)
	return &cpv1.ReleaseResponse{}, nil
}

// Close drops the adb connections and the engine client. Containers keep
// running: the next run of the plugin adopts them.
func (d *docker) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.stop()
	for _, dev := range d.devices {
		_ = dev.adb.Close()
	}
	if d.eng != nil {
		d.eng.Close()
	}
}

// newID returns a fresh device id, also the container's name.
func newID() (string, error) {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("device-docker: device id: %w", err)
	}
	return "cloudphone-" + hex.EncodeToString(b[:]), nil
}

// printable keeps the readable part of container output (the engine
// frames it with binary headers).
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r >= ' ' && r != 0x7f && r != 0xfffd {
			return r
		}
		return -1
	}, s)
	return strings.TrimSpace(s)
}

// Interface guards.
var (
	_ plugin.Device     = (*docker)(nil)
	_ plugin.Configurer = (*docker)(nil)
)
