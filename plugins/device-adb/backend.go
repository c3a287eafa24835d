package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/android"
)

// Transports, as the "transport" label shows them.
const (
	transportDirect = "direct"
	transportServer = "server"
)

// Tracker retry delays after the adb server went away.
const (
	minTrackBackoff = 200 * time.Millisecond
	maxTrackBackoff = 5 * time.Second
)

// device is one phone: a direct, persistent connection (Redialer) to a
// configured address, or a serial the adb server reports.
type device struct {
	id        string
	transport string
	dev       adb.Device
	red       *adb.Redialer // direct devices only

	mu    sync.Mutex
	info  *staticInfo
	state string // server devices: the server's state ("device", "offline", …)
	// Direct devices that could not be dialled: List does not dial them
	// again before nextDial (Observe, Act and the others always do).
	dialErr  error
	nextDial time.Time
	backoff  time.Duration
}

// List's redial delays for a direct device that could not be reached.
const (
	minListRedial = time.Second
	maxListRedial = 30 * time.Second
)

// up records that d answered, so List stops reporting an old dial error.
func (d *device) up() {
	d.mu.Lock()
	d.dialErr, d.backoff = nil, 0
	d.mu.Unlock()
}

// connect makes sure a direct device is connected, for List: a device
// that failed recently is reported without dialling it again, so a List
// over many dead addresses stays fast.
func (d *device) connect(ctx context.Context) error {
	if d.red == nil {
		return nil
	}
	d.mu.Lock()
	if d.dialErr != nil && time.Now().Before(d.nextDial) {
		err := d.dialErr
		d.mu.Unlock()
		return err
	}
	d.mu.Unlock()
	_, err := d.red.Conn(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		d.dialErr, d.backoff = nil, 0
		return nil
	}
	d.backoff = min(max(2*d.backoff, minListRedial), maxListRedial)
	d.dialErr, d.nextDial = err, time.Now().Add(d.backoff)
	return err
}

// staticInfo is what List shows that does not change while a phone runs.
type staticInfo struct {
	model, android string
	width, height  int
}

// close drops a direct device's connection.
func (d *device) close() {
	if d.red != nil {
		_ = d.red.Close()
	}
}

// backend is the plugin.
//
// Lock order: cfgMu, then mu, then a device's mu. The tracker goroutine
// takes mu only; Configure never waits for the tracker while holding mu.
type backend struct {
	log   *slog.Logger
	sizes android.SizeCache

	cfgMu sync.Mutex // serialises Configure

	mu           sync.Mutex
	set          settings
	configured   bool
	keys         []*rsa.PrivateKey
	direct       map[string]*device // by address
	server       map[string]*device // by serial
	serverStatus string             // why the adb server cannot be used; "" when it answers
	sc           *adb.ServerClient  // the tracked server; nil when discovery is off
	stopTrack    func()             // stops the tracker and waits for it
}

func newBackend(log *slog.Logger) *backend {
	return &backend{log: log, direct: map[string]*device{}, server: map[string]*device{}}
}

// Configure applies the settings section live: addresses are connected
// or dropped, a changed key or connect timeout reconnects every direct
// phone, and a changed adb_server restarts discovery. Settings that
// cannot apply (bad JSON, a key that cannot be read or created) are
// refused and the old ones stay.
func (b *backend) Configure(_ context.Context, configJSON []byte) error {
	set, err := parseConfig(configJSON)
	if err != nil {
		return err
	}
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	var keys []*rsa.PrivateKey
	if len(set.addresses) > 0 {
		k, err := adb.LoadOrCreateKey(set.keyPath)
		if err != nil {
			return fmt.Errorf("device-adb settings: adb_key %s: %w", set.keyPath, err)
		}
		keys = []*rsa.PrivateKey{k}
	}

	b.mu.Lock()
	old, first := b.set, !b.configured
	redialAll := !first && (old.keyPath != set.keyPath || old.connectTimeout != set.connectTimeout)
	var closing []*device
	for addr, d := range b.direct {
		if redialAll || !slices.Contains(set.addresses, addr) {
			closing = append(closing, d)
			delete(b.direct, addr)
			b.sizes.Forget(addr)
		}
	}
	for _, addr := range set.addresses {
		if _, ok := b.direct[addr]; ok {
			continue
		}
		red := adb.NewRedialer(addr, &adb.DialOptions{Keys: keys, Logger: b.log,
			Dialer: &net.Dialer{Timeout: set.connectTimeout, KeepAlive: 30 * time.Second}})
		b.direct[addr] = &device{id: addr, transport: transportDirect, dev: red, red: red}
	}
	var stop func()
	if first || old.server != set.server {
		stop, b.stopTrack = b.stopTrack, nil
		for serial := range b.server {
			b.sizes.Forget(serial)
		}
		clear(b.server)
		b.serverStatus, b.sc = "", nil
	}
	b.set, b.keys, b.configured = set, keys, true
	b.mu.Unlock()

	for _, d := range closing {
		d.close()
	}
	if stop != nil {
		stop()
	}
	if first || old.server != set.server {
		b.startTracker(set.server)
	}
	if !first && !maps.Equal(old.labels, set.labels) {
		b.log.Info("device-adb: labels changed; applied live")
	}
	b.log.Info("device-adb: configured", "adb_server", set.server, "addresses", len(set.addresses), "adb_key", set.keyPath)
	return nil
}

// ensure configures the defaults when the host never configured the
// plugin.
func (b *backend) ensure(ctx context.Context) {
	b.mu.Lock()
	done := b.configured
	b.mu.Unlock()
	if !done {
		_ = b.Configure(ctx, nil)
	}
}

// startTracker follows the adb server's device list (host:track-devices)
// until stopped, reconnecting with backoff when the server goes away.
func (b *backend) startTracker(addr string) {
	if addr == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.mu.Lock()
	b.stopTrack = func() { cancel(); <-done }
	b.mu.Unlock()
	sc := &adb.ServerClient{Addr: addr}
	b.mu.Lock()
	b.sc = sc
	b.mu.Unlock()
	go func() {
		defer close(done)
		backoff := minTrackBackoff
		for {
			err := sc.TrackDevices(ctx, func(list []adb.DeviceEntry) {
				backoff = minTrackBackoff
				b.setServerDevices(ctx, sc, list)
			})
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				err = errors.New("the server closed the connection")
			}
			b.serverDown(ctx, addr, err)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(backoff*2, maxTrackBackoff)
		}
	}()
}

// setServerDevices replaces the server's devices with list. Serials that
// are also configured addresses are served by the direct connection.
func (b *backend) setServerDevices(ctx context.Context, sc *adb.ServerClient, list []adb.DeviceEntry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ctx.Err() != nil {
		return // a newer tracker owns the list
	}
	if b.serverStatus != "" {
		b.log.Info("device-adb: adb server reachable", "adb_server", sc.Addr)
	}
	b.serverStatus = ""
	seen := map[string]bool{}
	for _, e := range list {
		if e.Serial == "" || b.direct[e.Serial] != nil {
			continue
		}
		seen[e.Serial] = true
		d := b.server[e.Serial]
		if d == nil {
			d = &device{id: e.Serial, transport: transportServer, dev: sc.Device(e.Serial)}
			b.server[e.Serial] = d
			b.log.Info("device-adb: device appeared", "device", e.Serial, "state", e.State)
		}
		d.mu.Lock()
		if d.state != e.State && e.State != "device" {
			d.info = nil // re-read after it comes back
			b.sizes.Forget(e.Serial)
		}
		d.state = e.State
		d.mu.Unlock()
	}
	for serial := range b.server {
		if !seen[serial] {
			delete(b.server, serial)
			b.sizes.Forget(serial)
			b.log.Info("device-adb: device gone", "device", serial)
		}
	}
}

// refreshServerStates re-reads the states of server devices that are
// not ready from host:devices: adb 29 does not tell trackers when a
// device goes from offline to unauthorized (or back).
func (b *backend) refreshServerStates(ctx context.Context) {
	b.mu.Lock()
	sc, stale := b.sc, false
	for _, d := range b.server {
		d.mu.Lock()
		stale = stale || d.state != "device"
		d.mu.Unlock()
	}
	b.mu.Unlock()
	if sc == nil || !stale {
		return
	}
	list, err := sc.Devices(ctx)
	if err != nil {
		return // the tracker reports an unreachable server
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sc != sc {
		return
	}
	for _, e := range list {
		if d := b.server[e.Serial]; d != nil {
			d.mu.Lock()
			d.state = e.State
			d.mu.Unlock()
		}
	}
}

// serverDown records why the adb server cannot be used and forgets its
// devices.
func (b *backend) serverDown(ctx context.Context, addr string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	msg := fmt.Sprintf("adb server %s not reachable: %v", addr, err)
	if b.serverStatus != msg {
		b.log.Warn("device-adb: adb server not reachable; retrying", "adb_server", addr, "err", err)
	}
	b.serverStatus = msg
	for serial := range b.server {
		b.sizes.Forget(serial)
	}
	clear(b.server)
}

// Close stops discovery and closes every connection.
func (b *backend) Close() {
	b.cfgMu.Lock()
	defer b.cfgMu.Unlock()
	b.mu.Lock()
	stop := b.stopTrack
	b.stopTrack = nil
	devs := slices.Collect(maps.Values(b.direct))
	clear(b.direct)
	clear(b.server)
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, d := range devs {
		d.close()
	}
}

// devices returns every device, sorted by id, with the server status.
func (b *backend) devices(ctx context.Context) ([]*device, settings, string) {
	b.ensure(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*device, 0, len(b.direct)+len(b.server))
	for _, d := range b.direct {
		out = append(out, d)
	}
	for _, d := range b.server {
		out = append(out, d)
	}
	slices.SortFunc(out, func(x, y *device) int { return strings.Compare(x.id, y.id) })
	return out, b.set, b.serverStatus
}

// lookup finds a device by id.
func (b *backend) lookup(ctx context.Context, id string) (*device, error) {
	b.ensure(ctx)
	if id == "" {
		return nil, errNoID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := b.direct[id]; d != nil {
		return d, nil
	}
	if d := b.server[id]; d != nil {
		return d, nil
	}
	return nil, unknownDevice(id)
}
