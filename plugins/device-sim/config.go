package main

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// defaultCount is the number of phones when the config does not say.
const defaultCount = 4

// maxCount bounds count, as a guard against typos.
const maxCount = 5000

// config is the plugin's settings section, plugins.config.device-sim.
type config struct {
	Count   *int   `json:"count"`   // default 4
	Listen  string `json:"listen"`  // default 127.0.0.1:6100
	Width   int    `json:"width"`   // default 1080
	Height  int    `json:"height"`  // default 2400
	Profile string `json:"profile"` // instant (default) or phone
	Model   string `json:"model"`   // ro.product.model
	Faults  faults `json:"faults"`
	// Auth makes phones require adb keys: those in ADBKeys (an adb_keys
	// file of public keys) when set, otherwise any key the host offers
	// is accepted, as if "Always allow" were tapped.
	Auth    bool              `json:"auth"`
	ADBKeys string            `json:"adb_keys"`
	Labels  map[string]string `json:"labels"` // extra labels on every phone
}

// faults is phone.Faults with a readable reboot_for ("2s").
type faults struct {
	Seed      int64             `json:"seed"`
	Stall     float64           `json:"stall"`
	Drop      float64           `json:"drop"`
	Reboot    float64           `json:"reboot"`
	Rules     []phone.FaultRule `json:"rules"`
	RebootFor string            `json:"reboot_for"`
}

// settings is a validated config, ready to build a fleet from.
type settings struct {
	count   int
	listen  string
	width   int
	height  int
	profile phone.Profile
	model   string
	faults  phone.Faults
	auth    bool
	keys    []*rsa.PublicKey
	keyFile string
	labels  map[string]string
}

// parseConfig decodes and validates a settings section. Unknown keys are
// errors, so a typo does not silently fall back to a default.
func parseConfig(data []byte) (settings, error) {
	var c config
	if len(bytes.TrimSpace(data)) > 0 && string(bytes.TrimSpace(data)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return settings{}, fmt.Errorf("device-sim settings: %w", err)
		}
	}
	s := settings{count: defaultCount, listen: c.Listen, width: c.Width, height: c.Height,
		model: c.Model, auth: c.Auth, keyFile: c.ADBKeys, labels: maps.Clone(c.Labels)}
	if c.Count != nil {
		s.count = *c.Count
	}
	if s.count < 0 || s.count > maxCount {
		return settings{}, fmt.Errorf("device-sim settings: count %d is out of range 0–%d", s.count, maxCount)
	}
	if s.listen == "" {
		s.listen = fleet.DefaultListen
	}
	if err := fleet.CheckListen(s.listen, s.count); err != nil {
		return settings{}, fmt.Errorf("device-sim settings: %w", err)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"width", s.width}, {"height", s.height}} {
		if v.n != 0 && (v.n < 64 || v.n > 8192) {
			return settings{}, fmt.Errorf("device-sim settings: %s %d is out of range 64–8192", v.name, v.n)
		}
	}
	if s.width == 0 {
		s.width = phone.DefaultWidth
	}
	if s.height == 0 {
		s.height = phone.DefaultHeight
	}
	p, err := phone.ProfileByName(c.Profile)
	if err != nil {
		return settings{}, fmt.Errorf("device-sim settings: %w", err)
	}
	s.profile = p
	f := c.Faults
	for _, pr := range []float64{f.Stall, f.Drop, f.Reboot} {
		if pr < 0 || pr > 1 {
			return settings{}, fmt.Errorf("device-sim settings: fault probability %g is out of range 0–1", pr)
		}
	}
	if f.Stall+f.Drop+f.Reboot > 1 {
		return settings{}, fmt.Errorf("device-sim settings: fault probabilities add up to %g, more than 1", f.Stall+f.Drop+f.Reboot)
	}
	s.faults = phone.Faults{Seed: f.Seed, Stall: f.Stall, Drop: f.Drop, Reboot: f.Reboot, Rules: f.Rules}
	if f.RebootFor != "" {
		d, err := time.ParseDuration(f.RebootFor)
		if err != nil || d < 0 {
			return settings{}, fmt.Errorf("device-sim settings: faults.reboot_for %q is not a duration such as \"2s\"", f.RebootFor)
		}
		s.faults.RebootFor = d
	}
	if s.keyFile != "" {
		keys, err := readADBKeys(s.keyFile)
		if err != nil {
			return settings{}, fmt.Errorf("device-sim settings: adb_keys: %w", err)
		}
		s.keys = keys
		s.auth = true
	}
	return s, nil
}

// readADBKeys reads an adb_keys file: one public key per line, in the
// format of ~/.android/adbkey.pub.
func readADBKeys(path string) ([]*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	var keys []*rsa.PublicKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, err := wire.ParsePublicKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no keys", path)
	}
	return keys, nil
}

// fleetOptions turns settings into fleet options.
func (s settings) fleetOptions() fleet.Options {
	o := fleet.Options{
		Count: s.count, Listen: s.listen, Width: s.width, Height: s.height, Model: s.model,
		Profile: s.profile, Faults: s.faults,
	}
	if s.auth {
		o.Auth = adbd.NewAuth(s.keys...)
		if len(s.keys) == 0 {
			o.Auth.Confirm = allowAll
		}
	}
	return o
}

// recreateFields names the settings that differ between a and b and can
// only be applied by re-creating the fleet.
func recreateFields(a, b settings) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("listen", a.listen != b.listen)
	add("width", a.width != b.width)
	add("height", a.height != b.height)
	add("profile", a.profile != b.profile)
	add("model", a.model != b.model)
	add("faults", !reflect.DeepEqual(a.faults, b.faults))
	add("auth", a.auth != b.auth || a.keyFile != b.keyFile || !reflect.DeepEqual(a.keys, b.keys))
	return out
}
