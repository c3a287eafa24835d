package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
)

// DefaultListen is the address of the first phone when Options.Listen is
// empty.
const DefaultListen = "127.0.0.1:6100"

// The ports the adb server scans for emulators by itself; phones never
// listen there.
const (
	EmulatorPortMin = 5555
	EmulatorPortMax = 5585
)

// ErrClosed is returned by operations on a closed fleet.
var ErrClosed = errors.New("fleet: closed")

// ErrNotFound is returned for a serial the fleet does not serve.
var ErrNotFound = errors.New("fleet: no such phone")

// Options configure a fleet. The zero value starts no phones on
// DefaultListen; set Count.
type Options struct {
	// Count is the number of phones Start creates.
	Count int
	// Listen is the first phone's address, "host:port"; the next phones
	// take the following ports. Port 0 lets the system pick every port.
	// Default DefaultListen.
	Listen string
	// Width and Height are the screen size in pixels (default
	// phone.DefaultWidth × phone.DefaultHeight).
	Width, Height int
	// Model is ro.product.model (default phone's "CloudPhone 1").
	Model string
	// Profile is the latency profile of every phone (default
	// phone.Instant).
	Profile phone.Profile
	// Faults configures fault injection; phone i uses Seed+i so phones do
	// not fail in lockstep.
	Faults phone.Faults
	// Auth, when set, makes every phone require adb authentication
	// against it (see adbd.Auth); nil accepts every host.
	Auth *adbd.Auth
	// Logger receives fleet and adbd events (default slog.Default()).
	Logger *slog.Logger
}

// Device is one phone of a fleet and its adb listener.
type Device struct {
	// Serial is the phone's adb serial, its address: "127.0.0.1:6100".
	Serial string
	// Phone is the simulated phone.
	Phone *phone.Phone
	// Provisioned is true for phones added with Add (rather than Start).
	Provisioned bool

	port   int
	idx    int // creation order
	conns  conns
	cancel context.CancelFunc
	done   chan struct{}
}

// Port returns the TCP port the phone listens on.
func (d *Device) Port() int { return d.port }

// Conns returns how many adb hosts are connected to the phone.
func (d *Device) Conns() int { return d.conns.count() }

// stop closes the listener and every connection and waits until the
// server's goroutines are gone.
func (d *Device) stop() {
	d.cancel()
	<-d.done
}

// Fleet is a set of phones served over adb. It is safe for concurrent use.
type Fleet struct {
	opts   Options
	host   string
	base   int // first port; 0 when the system picks ports
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	devs   map[string]*Device
	next   int // index of the next phone, for serials and seeds
	closed bool
}

// Start creates a fleet of opts.Count phones, each listening on its own
// port, and serves adb on them until Close (or until ctx ends, which
// closes every listener too). On failure nothing is left running.
func Start(ctx context.Context, opts Options) (*Fleet, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Count < 0 {
		return nil, fmt.Errorf("fleet: count %d is negative", opts.Count)
	}
	host, base, err := parseListen(opts.Listen, opts.Count)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	f := &Fleet{
		opts: opts, host: host, base: base, log: opts.Logger,
		ctx: fctx, cancel: cancel, devs: make(map[string]*Device, opts.Count),
	}
	start := time.Now()
	for i := range opts.Count {
		port := 0
		if base != 0 {
			port = base + i
		}
		if _, err := f.add(port, false); err != nil {
			f.Close()
			return nil, err
		}
	}
	f.log.Info("fleet: phones serving adb", "count", opts.Count, "listen", opts.Listen,
		"profile", opts.Profile.Name, "took", time.Since(start).Round(time.Millisecond))
	return f, nil
}

// CheckListen reports whether count phones can listen from listen
// ("host:port"): the address must parse and the ports must stay within
// 1–65535 and outside 5555–5585. It does not try to listen.
func CheckListen(listen string, count int) error {
	_, _, err := parseListen(listen, count)
	return err
}

func parseListen(listen string, count int) (host string, base int, err error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("fleet: listen address %q: %w", listen, err)
	}
	base, err = strconv.Atoi(portText)
	if err != nil || base < 0 || base > 65535 {
		return "", 0, fmt.Errorf("fleet: listen address %q: bad port", listen)
	}
	if base != 0 {
		if err := checkPorts(base, base+count-1); err != nil {
			return "", 0, err
		}
	}
	return host, base, nil
}

// checkPorts refuses port ranges that leave 1–65535 or touch the
// emulator ports.
func checkPorts(first, last int) error {
	if last > 65535 {
		return fmt.Errorf("fleet: ports %d–%d run past 65535", first, last)
	}
	if first <= EmulatorPortMax && last >= EmulatorPortMin {
		return fmt.Errorf("fleet: ports %d–%d overlap %d–%d, which the adb server scans for emulators; choose another listen port (default %s)",
			first, last, EmulatorPortMin, EmulatorPortMax, DefaultListen)
	}
	return nil
}

// Options returns the options the fleet was started with (defaults
// filled in).
func (f *Fleet) Options() Options { return f.opts }

// add creates one phone listening on port (0: any) and starts serving it.
func (f *Fleet) add(port int, provisioned bool) (*Device, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, ErrClosed
	}
	idx := f.next
	f.next++
	f.mu.Unlock()

	addr := net.JoinHostPort(f.host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fleet: listen for phone %d: %w", idx+1, err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	if p >= EmulatorPortMin && p <= EmulatorPortMax {
		_ = ln.Close()
		return nil, fmt.Errorf("fleet: system picked port %d, one the adb server scans for emulators", p)
	}
	host := f.host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	faults := f.opts.Faults
	faults.Seed += int64(idx)
	d := &Device{Provisioned: provisioned, port: p, idx: idx, done: make(chan struct{})}
	d.Serial = net.JoinHostPort(host, strconv.Itoa(p))
	d.Phone = phone.New(phone.Options{
		Serial: d.Serial, Width: f.opts.Width, Height: f.opts.Height, Model: f.opts.Model,
		Profile: f.opts.Profile, Faults: faults,
	})
	srv := &adbd.Server{
		Handler: &Handler{Phone: d.Phone, Drop: d.conns.drop},
		Auth:    f.opts.Auth,
		Logger:  f.log,
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		_ = ln.Close()
		return nil, ErrClosed
	}
	if _, dup := f.devs[d.Serial]; dup {
		f.mu.Unlock()
		_ = ln.Close()
		return nil, fmt.Errorf("fleet: phone %s already exists", d.Serial)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	d.cancel = cancel
	f.devs[d.Serial] = d
	f.mu.Unlock()
	go func() {
		defer close(d.done)
		if err := srv.Serve(ctx, trackListener{Listener: ln, set: &d.conns}); err != nil {
			f.log.Warn("fleet: phone stopped serving", "serial", d.Serial, "err", err)
		}
	}()
	f.log.Debug("fleet: phone up", "serial", d.Serial, "provisioned", provisioned)
	return d, nil
}

// Add creates one more phone, marked Provisioned, on the lowest free port
// from the fleet's base (a system-picked port when the fleet listens on
// port 0), and returns it once it serves adb.
func (f *Fleet) Add(ctx context.Context) (*Device, error) {
	return f.addNext(ctx, true)
}

// Resize grows or shrinks the phones Start created (those not
// Provisioned) to count, leaving the others running: new phones take the
// lowest free ports; the phones last in Devices order (highest ports) go
// first.
func (f *Fleet) Resize(ctx context.Context, count int) error {
	if count < 0 {
		return fmt.Errorf("fleet: resize to %d phones: negative count", count)
	}
	var own []*Device
	for _, d := range f.Devices() {
		if !d.Provisioned {
			own = append(own, d)
		}
	}
	for i := len(own) - 1; i >= count; i-- {
		if err := f.Remove(own[i].Serial); err != nil {
			return fmt.Errorf("fleet: resize: %w", err)
		}
	}
	for range count - len(own) {
		if _, err := f.addNext(ctx, false); err != nil {
			return fmt.Errorf("fleet: resize to %d phones: %w", count, err)
		}
	}
	f.log.Info("fleet: resized", "phones", count, "was", len(own))
	return nil
}

func (f *Fleet) addNext(ctx context.Context, provisioned bool) (*Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fleet: add phone: %w", err)
	}
	if f.base == 0 {
		return f.add(0, provisioned)
	}
	const tries = 64
	for range tries {
		f.mu.Lock()
		used := make(map[int]bool, len(f.devs))
		for _, d := range f.devs {
			used[d.port] = true
		}
		f.mu.Unlock()
		port := f.base
		for used[port] {
			port++
		}
		if err := checkPorts(port, port); err != nil {
			return nil, err
		}
		d, err := f.add(port, provisioned)
		if err == nil {
			return d, nil
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, err
		}
		// Port taken by another program or a concurrent Add: remember
		// it as busy and take the next one.
		f.log.Debug("fleet: port busy, trying the next", "port", port, "err", err)
		f.mu.Lock()
		f.devs[reservedKey(port)] = &Device{port: port}
		f.mu.Unlock()
	}
	return nil, fmt.Errorf("fleet: add phone: no free port after %d tries", tries)
}

// reservedKey marks a port found busy so Add moves past it; such entries
// have no phone and are skipped by every accessor.
func reservedKey(port int) string { return "\x00busy:" + strconv.Itoa(port) }

// Remove stops the phone with this serial: its listener and connections
// close and it is forgotten.
func (f *Fleet) Remove(serial string) error {
	f.mu.Lock()
	d, ok := f.devs[serial]
	if ok && d.Phone != nil {
		delete(f.devs, serial)
	}
	f.mu.Unlock()
	if !ok || d.Phone == nil {
		return fmt.Errorf("remove %q: %w", serial, ErrNotFound)
	}
	d.stop()
	f.log.Debug("fleet: phone removed", "serial", serial)
	return nil
}

// Get returns the phone with this serial.
func (f *Fleet) Get(serial string) (*Device, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devs[serial]
	if !ok || d.Phone == nil {
		return nil, false
	}
	return d, true
}

// Devices returns the fleet's phones ordered by port (by creation when
// the system picks ports).
func (f *Fleet) Devices() []*Device {
	f.mu.Lock()
	out := make([]*Device, 0, len(f.devs))
	for _, d := range f.devs {
		if d.Phone != nil {
			out = append(out, d)
		}
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b *Device) int {
		if f.base == 0 {
			return a.idx - b.idx
		}
		return a.port - b.port
	})
	return out
}

// Len returns the number of phones.
func (f *Fleet) Len() int { return len(f.Devices()) }

// Close stops every phone: listeners and connections close, and Close
// returns once every serving goroutine has ended. It is safe to call more
// than once.
func (f *Fleet) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	devs := f.devs
	f.devs = map[string]*Device{}
	f.mu.Unlock()
	f.cancel()
	n := 0
	for _, d := range devs {
		if d.Phone != nil {
			<-d.done
			n++
		}
	}
	f.log.Info("fleet: stopped", "phones", n)
}
