package phone

import (
	"fmt"
	"strings"
	"time"
)

// Profile is a per-command latency profile, applied inside Exec before each
// simple command runs and cut short when the context ends.
type Profile struct {
	Name      string        `json:"name"`
	Screencap time.Duration `json:"screencap"` // screencap
	Input     time.Duration `json:"input"`     // input tap|swipe|text|keyevent
	Dump      time.Duration `json:"dump"`      // uiautomator dump
	Other     time.Duration `json:"other"`     // every other command
}

// Latency profiles.
var (
	// Instant has no delays: what the simulator itself costs.
	Instant = Profile{Name: "instant"}
	// RealPhone has the figures of a mid-range phone over USB adb.
	RealPhone = Profile{Name: "phone", Screencap: 150 * time.Millisecond, Input: 20 * time.Millisecond,
		Dump: 100 * time.Millisecond, Other: 5 * time.Millisecond}
)

// ProfileByName returns the profile called name ("instant" or "phone";
// "" is instant).
func ProfileByName(name string) (Profile, error) {
	switch strings.ToLower(name) {
	case "", "instant":
		return Instant, nil
	case "phone", "realphone", "real":
		return RealPhone, nil
	}
	return Profile{}, fmt.Errorf("unknown latency profile %q (want instant or phone)", name)
}

func (pr Profile) latency(cmd string) time.Duration {
	switch cmd {
	case "screencap":
		return pr.Screencap
	case "input":
		return pr.Input
	case "uiautomator":
		return pr.Dump
	}
	return pr.Other
}

// FaultKind names an injected failure.
type FaultKind int

// Fault kinds.
const (
	FaultNone FaultKind = iota
	// FaultStall: the command hangs until its context ends.
	FaultStall
	// FaultDrop: Run returns ErrDropConnection at once; the transport
	// drops the connection. The phone's state is unchanged.
	FaultDrop
	// FaultReboot: the phone reboots (see Phone.Reboot) and Run returns
	// ErrDropConnection.
	FaultReboot
)

func (k FaultKind) String() string {
	switch k {
	case FaultStall:
		return "stall"
	case FaultDrop:
		return "drop"
	case FaultReboot:
		return "reboot"
	}
	return "none"
}

// MarshalText encodes k by name, for configuration files.
func (k FaultKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a name written by MarshalText.
func (k *FaultKind) UnmarshalText(b []byte) error {
	v, err := ParseFaultKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseFaultKind parses "stall", "drop" or "reboot".
func ParseFaultKind(s string) (FaultKind, error) {
	for _, k := range []FaultKind{FaultStall, FaultDrop, FaultReboot} {
		if strings.EqualFold(s, k.String()) {
			return k, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown fault kind %q (want stall, drop or reboot)", s)
}

// Faults configure fault injection. Each Exec call is checked once, before
// it runs: first faults queued with InjectFault, then Rules in order, then
// the probabilities, drawn from a RNG seeded with Seed so runs repeat.
type Faults struct {
	Seed   int64       `json:"seed"`
	Stall  float64     `json:"stall"`  // probability per Exec
	Drop   float64     `json:"drop"`   // probability per Exec
	Reboot float64     `json:"reboot"` // probability per Exec
	Rules  []FaultRule `json:"rules"`
	// RebootFor is how long the phone stays booting; default 2s.
	RebootFor time.Duration `json:"reboot_for"`
}

// FaultRule fires a fault on chosen commands.
type FaultRule struct {
	Kind FaultKind `json:"kind"`
	// Match selects Exec calls whose command line contains it; "" matches
	// every call.
	Match string `json:"match"`
	// Nth fires on the Nth matching call only (1-based); 0 fires on every
	// matching call.
	Nth int `json:"nth"`
}

// InjectFault queues k to fire on the next Exec call.
func (p *Phone) InjectFault(k FaultKind) {
	p.faultMu.Lock()
	defer p.faultMu.Unlock()
	p.pending = append(p.pending, k)
}

func (p *Phone) pickFault(cmdline string) FaultKind {
	f := &p.opts.Faults
	p.faultMu.Lock()
	defer p.faultMu.Unlock()
	p.execs++
	if len(p.pending) > 0 {
		k := p.pending[0]
		p.pending = p.pending[1:]
		return k
	}
	for i, r := range f.Rules {
		if r.Match != "" && !strings.Contains(cmdline, r.Match) {
			continue
		}
		p.ruleHits[i]++
		if r.Nth == 0 || r.Nth == p.ruleHits[i] {
			return r.Kind
		}
	}
	if f.Stall == 0 && f.Drop == 0 && f.Reboot == 0 {
		return FaultNone
	}
	x := p.rng.Float64()
	switch {
	case x < f.Stall:
		return FaultStall
	case x < f.Stall+f.Drop:
		return FaultDrop
	case x < f.Stall+f.Drop+f.Reboot:
		return FaultReboot
	}
	return FaultNone
}
