package phone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default screen figures, those of a common 6.7" phone.
const (
	DefaultWidth   = 1080
	DefaultHeight  = 2400
	DefaultDensity = 440
)

// Exit codes Exec returns when the command did not finish normally.
const (
	// ExitDropped: a drop or reboot fault fired; the transport should close
	// the connection (Run returns ErrDropConnection).
	ExitDropped = -1
	// ExitCanceled: ctx ended first (Run returns ctx.Err()).
	ExitCanceled = -2
)

// ErrDropConnection is returned by Run when a fault asks the transport to
// drop the connection, as a phone that crashes, loses USB or reboots does.
var ErrDropConnection = errors.New("phone: connection dropped by fault injection")

// Options configure a phone. The zero value is a usable 1080×2400 phone.
type Options struct {
	Serial       string // default "cloudphone-0001"
	Width        int    // pixels; default 1080
	Height       int    // pixels; default 2400
	Density      int    // dpi; default 440
	Model        string // ro.product.model; default "CloudPhone 1"
	Manufacturer string // default "OpenAutoGLM"
	// Profile sets per-command latency; the zero value is Instant.
	Profile Profile
	// Faults configures fault injection; the zero value injects none.
	Faults Faults
	// Clock gives the phone's time (status bar, file times, messages).
	// Default: a frozen clock at 2026-01-15 09:41 China Standard Time, so
	// screenshots are deterministic.
	Clock func() time.Time
}

// DefaultClock returns the fixed time used when Options.Clock is nil.
func DefaultClock() time.Time {
	return time.Date(2026, 1, 15, 9, 41, 0, 0, time.FixedZone("CST", 8*3600))
}

// Phone is one simulated Android phone. All methods are safe for
// concurrent use; Exec may run many commands at once, as adb multiplexes
// streams.
//
// Lock order: Phone.mu, then FS.mu; faultMu is never held with either.
type Phone struct {
	id    uint64 // process-unique, keys the screenshot cache
	opts  Options
	clock func() time.Time
	fs    *FS

	mu sync.Mutex
	w  *world

	faultMu  sync.Mutex
	rng      *rand.Rand
	execs    int
	ruleHits []int
	pending  []FaultKind
}

var phoneIDs atomic.Uint64

// New returns a booted phone at its home screen.
func New(opts Options) *Phone {
	if opts.Width <= 0 {
		opts.Width = DefaultWidth
	}
	if opts.Height <= 0 {
		opts.Height = DefaultHeight
	}
	if opts.Density <= 0 {
		opts.Density = DefaultDensity
	}
	if opts.Serial == "" {
		opts.Serial = "cloudphone-0001"
	}
	if opts.Model == "" {
		opts.Model = "CloudPhone 1"
	}
	if opts.Manufacturer == "" {
		opts.Manufacturer = "OpenAutoGLM"
	}
	clock := opts.Clock
	if clock == nil {
		clock = DefaultClock
	}
	p := &Phone{
		id:       phoneIDs.Add(1),
		opts:     opts,
		clock:    clock,
		rng:      rand.New(rand.NewSource(opts.Faults.Seed)),
		ruleHits: make([]int, len(opts.Faults.Rules)),
	}
	p.fs = newFS(clock)
	p.w = newWorld()
	return p
}

// Serial returns the phone's serial number (ro.serialno).
func (p *Phone) Serial() string { return p.opts.Serial }

// Size returns the screen size in pixels.
func (p *Phone) Size() (w, h int) { return p.opts.Width, p.opts.Height }

// FS returns the phone's file system, for adb sync push and pull.
func (p *Phone) FS() *FS { return p.fs }

// Banner returns the properties adbd puts in its CNXN banner.
func (p *Phone) Banner() map[string]string {
	return map[string]string{
		"ro.product.name":   p.device(),
		"ro.product.model":  p.opts.Model,
		"ro.product.device": p.device(),
	}
}

func (p *Phone) device() string {
	return strings.ToLower(strings.ReplaceAll(p.opts.Model, " ", "_"))
}

// Exec runs one shell command line as Android's /system/bin/sh would,
// writing to stdout and stderr, and returns its exit status: 127 for an
// unknown command, ExitDropped when a fault drops the connection and
// ExitCanceled when ctx ends first. stdin may be nil.
func (p *Phone) Exec(ctx context.Context, cmdline string, stdin io.Reader, stdout, stderr io.Writer) int {
	code, err := p.Run(ctx, cmdline, stdin, stdout, stderr)
	switch {
	case errors.Is(err, ErrDropConnection):
		return ExitDropped
	case err != nil:
		return ExitCanceled
	}
	return code
}

// Run is Exec with the reason for an abnormal end: ErrDropConnection when
// the transport must drop the connection (a drop or reboot fault), or
// ctx.Err() when the context ended (a stall fault waits for that).
func (p *Phone) Run(ctx context.Context, cmdline string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	switch p.pickFault(cmdline) {
	case FaultStall:
		<-ctx.Done()
		return ExitCanceled, fmt.Errorf("stalled command: %w", ctx.Err())
	case FaultDrop:
		return ExitDropped, ErrDropConnection
	case FaultReboot:
		p.Reboot()
		return ExitDropped, ErrDropConnection
	}
	sh := &shell{p: p, ctx: ctx}
	code, err := sh.runLine(cmdline, stdio{in: stdin, out: stdout, err: stderr})
	if err != nil {
		return code, err
	}
	return code, nil
}

// Reboot resets the Android world (apps, settings, screen) as a reboot
// does, keeping files. For Faults.RebootFor afterwards the phone is booting:
// sys.boot_completed is unset and UI commands fail.
func (p *Phone) Reboot() {
	d := p.opts.Faults.RebootFor
	if d == 0 {
		d = 2 * time.Second
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.w
	p.w = newWorld()
	p.w.version = old.version + 1
	p.w.bootUntil = time.Now().Add(d) // real time: boot takes wall time
}

// booting reports whether the phone is still starting after a reboot.
// Called with mu held.
func (p *Phone) booting() bool {
	return !p.w.bootUntil.IsZero() && time.Now().Before(p.w.bootUntil)
}

// delay waits d or until ctx ends.
func delay(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("command latency: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}
