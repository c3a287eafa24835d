package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// androidVersion is what the simulated phones report as
// ro.build.version.release.
const androidVersion = "14"

// Shell timeouts when the request gives none, and at most.
const (
	defaultShellTimeout = 30 * time.Second
	maxShellTimeout     = 10 * time.Minute
)

// sim is the plugin: a fleet and the settings it was built from.
//
// Lock order: sim.mu, then the fleet's own lock. Calls hold mu only to
// read the fleet pointer; Configure holds it while it swaps the fleet.
type sim struct {
	log *slog.Logger

	mu         sync.Mutex
	set        settings
	fleet      *fleet.Fleet
	configured bool
	provLabels map[string]map[string]string // labels Provision asked for, by id
}

func newSim(log *slog.Logger) *sim {
	return &sim{log: log, provLabels: map[string]map[string]string{}}
}

// Configure applies the settings section. The first call builds the
// fleet. Later calls apply count and labels live (phones are added or
// removed, the others keep running) and re-create the fleet when
// anything else changed; if the new fleet cannot start, the old settings
// are restored.
func (s *sim) Configure(ctx context.Context, configJSON []byte) error {
	set, err := parseConfig(configJSON)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet == nil {
		f, err := s.start(ctx, set)
		if err != nil {
			return err
		}
		s.fleet, s.set, s.configured = f, set, true
		return nil
	}
	old := s.set
	s.configured = true
	if changed := recreateFields(old, set); len(changed) > 0 {
		prov := 0
		for _, d := range s.fleet.Devices() {
			if d.Provisioned {
				prov++
			}
		}
		s.log.Info("device-sim: settings changed; re-creating the fleet", "changed", strings.Join(changed, ","),
			"phones", set.count, "listen", set.listen, "provisioned_dropped", prov)
		s.fleet.Close()
		s.fleet = nil
		clear(s.provLabels)
		f, err := s.start(ctx, set)
		if err != nil {
			s.log.Error("device-sim: new fleet failed; restoring the previous settings", "err", err)
			if back, berr := s.start(context.WithoutCancel(ctx), old); berr == nil {
				s.fleet = back
			} else {
				s.log.Error("device-sim: previous fleet failed too; no phones until the next configure", "err", berr)
			}
			return err
		}
		s.fleet, s.set = f, set
		return nil
	}
	if set.count != old.count {
		s.log.Info("device-sim: count changed; resizing the fleet live", "from", old.count, "to", set.count)
		if err := s.fleet.Resize(ctx, set.count); err != nil {
			return fmt.Errorf("device-sim: resize to %d phones: %w", set.count, err)
		}
	}
	if !maps.Equal(set.labels, old.labels) {
		s.log.Info("device-sim: labels changed; applied live")
	}
	s.set = set
	return nil
}

// start builds a fleet. Its phones live until Close, not until ctx ends:
// ctx only bounds the start.
func (s *sim) start(ctx context.Context, set settings) (*fleet.Fleet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("device-sim: start fleet: %w", err)
	}
	o := set.fleetOptions()
	o.Logger = s.log
	f, err := fleet.Start(context.WithoutCancel(ctx), o)
	if err != nil {
		return nil, fmt.Errorf("device-sim: %w", err)
	}
	return f, nil
}

// current returns the fleet, building one from the defaults when the host
// never configured the plugin.
func (s *sim) current(ctx context.Context) (*fleet.Fleet, settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet == nil && !s.configured {
		set, _ := parseConfig(nil)
		f, err := s.start(ctx, set)
		if err != nil {
			return nil, settings{}, err
		}
		s.fleet, s.set, s.configured = f, set, true
	}
	if s.fleet == nil {
		return nil, settings{}, status.Error(codes.Unavailable, "device-sim: no fleet (the last configure failed)")
	}
	return s.fleet, s.set, nil
}

// Close stops every phone.
func (s *sim) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fleet != nil {
		s.fleet.Close()
		s.fleet = nil
	}
}

// device finds a phone by id.
func (s *sim) device(ctx context.Context, id string) (*fleet.Device, error) {
	f, _, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "device-sim: no device id")
	}
	d, ok := f.Get(id)
	if !ok {
		return nil, status.Errorf(codes.NotFound, "device-sim: unknown device %q", id)
	}
	return d, nil
}

func (s *sim) info(d *fleet.Device, set settings) *cpv1.DeviceInfo {
	st := d.Phone.State()
	w, h := d.Phone.Size()
	labels := map[string]string{
		"backend":    "sim",
		"model":      d.Phone.Banner()["ro.product.model"],
		"android":    androidVersion,
		"resolution": fmt.Sprintf("%dx%d", w, h),
		"profile":    set.profile.Name,
	}
	maps.Copy(labels, set.labels)
	s.mu.Lock()
	maps.Copy(labels, s.provLabels[d.Serial])
	s.mu.Unlock()
	state := cpv1.DeviceState_DEVICE_STATE_READY
	if !st.Booted {
		state = cpv1.DeviceState_DEVICE_STATE_BOOTING
	}
	return &cpv1.DeviceInfo{
		Id: d.Serial, Labels: labels, State: state, AdbAddress: d.Serial, Provisioned: d.Provisioned,
		Screen: &cpv1.ScreenSize{Width: int32(w), Height: int32(h)},
	}
}

// List implements plugin.Device.
func (s *sim) List(ctx context.Context, _ *cpv1.ListRequest) (*cpv1.ListResponse, error) {
	f, set, err := s.current(ctx)
	if err != nil {
		return &cpv1.ListResponse{BackendStatus: err.Error()}, nil
	}
	devs := f.Devices()
	out := &cpv1.ListResponse{Devices: make([]*cpv1.DeviceInfo, 0, len(devs))}
	for _, d := range devs {
		out.Devices = append(out.Devices, s.info(d, set))
	}
	return out, nil
}

// Provision implements plugin.Device: a new phone on the next free port.
func (s *sim) Provision(ctx context.Context, req *cpv1.ProvisionRequest) (*cpv1.DeviceInfo, error) {
	f, set, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if len(req.GetOptions()) > 0 {
		s.log.Info("device-sim: provision options ignored; phones share the fleet's settings", "options", req.GetOptions())
	}
	d, err := f.Add(ctx)
	if err != nil {
		return nil, fmt.Errorf("device-sim: provision: %w", err)
	}
	s.mu.Lock()
	s.provLabels[d.Serial] = maps.Clone(req.GetLabels())
	s.mu.Unlock()
	s.log.Info("device-sim: provisioned", "device", d.Serial)
	return s.info(d, set), nil
}

// Release implements plugin.Device: removes a phone Provision added.
func (s *sim) Release(ctx context.Context, req *cpv1.ReleaseRequest) (*cpv1.ReleaseResponse, error) {
	d, err := s.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	if !d.Provisioned {
		return nil, status.Errorf(codes.FailedPrecondition, "device-sim: %s is one of the configured phones; lower count to remove it", d.Serial)
	}
	f, _, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if err := f.Remove(d.Serial); err != nil {
		return nil, fmt.Errorf("device-sim: release: %w", err)
	}
	s.mu.Lock()
	delete(s.provLabels, d.Serial)
	s.mu.Unlock()
	s.log.Info("device-sim: released", "device", d.Serial)
	return &cpv1.ReleaseResponse{}, nil
}

// run runs one command on p and returns stdout; a non-zero exit is an
// error carrying stderr.
func run(ctx context.Context, p *phone.Phone, cmd string) ([]byte, error) {
	var out, errb bytes.Buffer
	code, err := p.Run(ctx, cmd, nil, &out, &errb)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", cmd, ctx.Err())
		}
		return nil, status.Errorf(codes.Unavailable, "%s: %v", cmd, err)
	}
	if code != 0 {
		return nil, fmt.Errorf("%s: exit %d: %s", cmd, code, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// Observe implements plugin.Device. Screenshot, UI dump and current app
// are gathered concurrently from the in-process phone; the screenshot and
// the dump go through the phone's shell (`screencap -p`, `uiautomator
// dump`) so its latency profile and faults apply as they would over adb.
func (s *sim) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	d, err := s.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("observe %s: %w", d.Serial, err)
	}
	w, h := d.Phone.Size()
	obs := &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: int32(w), Height: int32(h)}, TakenUnixMs: time.Now().UnixMilli()}
	var wg sync.WaitGroup
	var shotErr, uiErr error
	if !req.GetSkipScreenshot() {
		wg.Go(func() {
			png, err := run(ctx, d.Phone, "screencap -p")
			if err != nil {
				shotErr = err
				return
			}
			sum := sha256.Sum256(png)
			obs.ScreenshotPng, obs.ScreenshotSha256 = png, hex.EncodeToString(sum[:])
		})
	}
	if !req.GetSkipUi() {
		wg.Go(func() {
			out, err := run(ctx, d.Phone, "uiautomator dump /dev/tty")
			if err != nil {
				uiErr = err
				return
			}
			if i := bytes.LastIndex(out, []byte("</hierarchy>")); i >= 0 {
				out = out[:i+len("</hierarchy>")]
			}
			obs.UiXml = string(out)
		})
	}
	st := d.Phone.State()
	obs.CurrentApp, obs.CurrentAppName = st.CurrentApp, st.CurrentAppName
	wg.Wait()
	if err := errors.Join(shotErr, uiErr); err != nil {
		return nil, fmt.Errorf("observe %s: %w", d.Serial, err)
	}
	return obs, nil
}

// Act implements plugin.Device: the action becomes the commands a real
// adb backend sends, run in order on the phone.
func (s *sim) Act(ctx context.Context, req *cpv1.ActRequest) (*cpv1.ActResponse, error) {
	d, err := s.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	a := req.GetAction()
	if a == nil {
		return nil, status.Error(codes.InvalidArgument, "device-sim: act: no action")
	}
	w, h := d.Phone.Size()
	cmds, err := actCommands(a, w, h)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "device-sim: act on %s: %v", d.Serial, err)
	}
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("act on %s: %w", d.Serial, err)
	}
	switch a.GetType() {
	case cpv1.ActionType_ACTION_TYPE_WAIT:
		ms := int64(a.GetDurationMs())
		if ms <= 0 {
			ms = defaultWaitMs
		}
		t := time.NewTimer(time.Duration(min(ms, maxWaitMs)) * time.Millisecond)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait on %s: %w", d.Serial, ctx.Err())
		case <-t.C:
		}
		return &cpv1.ActResponse{DurationUs: time.Since(start).Microseconds(), Message: "waited " + strconv.FormatInt(ms, 10) + " ms"}, nil
	case cpv1.ActionType_ACTION_TYPE_TAKE_OVER, cpv1.ActionType_ACTION_TYPE_NOTE:
		return &cpv1.ActResponse{Message: "no device effect"}, nil
	case cpv1.ActionType_ACTION_TYPE_TYPE:
		// Open-AutoGLM: make sure the ADB Keyboard is the IME first.
		ime, err := run(ctx, d.Phone, "settings get secure default_input_method")
		if err != nil {
			return nil, fmt.Errorf("act on %s: %w", d.Serial, err)
		}
		if strings.TrimSpace(string(ime)) != adbIME {
			cmds = append([]string{"ime set " + adbIME}, cmds...)
		}
	}
	for _, c := range cmds {
		if _, err := run(ctx, d.Phone, c); err != nil {
			return nil, fmt.Errorf("act on %s: %w", d.Serial, err)
		}
	}
	return &cpv1.ActResponse{DurationUs: time.Since(start).Microseconds(), Message: strings.Join(cmds, "; ")}, nil
}

// Shell implements plugin.Device.
func (s *sim) Shell(ctx context.Context, req *cpv1.ShellRequest) (*cpv1.ShellResponse, error) {
	d, err := s.device(ctx, req.GetDeviceId())
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
	code, err := d.Phone.Run(ctx, req.GetCommand(), nil, &out, &errb)
	switch {
	case errors.Is(err, phone.ErrDropConnection):
		return nil, status.Errorf(codes.Unavailable, "device-sim: shell on %s: %v", d.Serial, err)
	case err != nil:
		return nil, fmt.Errorf("device-sim: shell on %s: %w", d.Serial, err)
	}
	return &cpv1.ShellResponse{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: int32(code)}, nil
}

// Health implements plugin.Device.
func (s *sim) Health(ctx context.Context, req *cpv1.HealthRequest) (*cpv1.HealthResponse, error) {
	if req.GetDeviceId() == "" {
		f, set, err := s.current(ctx)
		if err != nil {
			return &cpv1.HealthResponse{Ok: false, Message: err.Error()}, nil
		}
		n := f.Len()
		return &cpv1.HealthResponse{Ok: true, Message: fmt.Sprintf("%d simulated phones", n),
			Detail: map[string]string{"phones": strconv.Itoa(n), "listen": set.listen, "profile": set.profile.Name}}, nil
	}
	d, err := s.device(ctx, req.GetDeviceId())
	if err != nil {
		return nil, err
	}
	st := d.Phone.State()
	boot := "0"
	msg := "booted"
	if st.Booted {
		boot = "1"
	} else {
		msg = "booting"
	}
	return &cpv1.HealthResponse{Ok: st.Booted, Message: msg, Detail: map[string]string{
		"boot_completed": boot,
		"screen_on":      strconv.FormatBool(st.Awake),
		"current_app":    st.CurrentApp,
		"adb_address":    d.Serial,
		"adb_hosts":      strconv.Itoa(d.Conns()),
	}}, nil
}

// allowAll accepts every key a host offers, like tapping "Always allow".
func allowAll(context.Context, *rsa.PublicKey, string) bool { return true }

// Interface guards.
var (
	_ plugin.Device     = (*sim)(nil)
	_ plugin.Configurer = (*sim)(nil)
)
