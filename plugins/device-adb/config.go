package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultServer is the adb server the plugin tracks when the config does
// not say.
const DefaultServer = "127.0.0.1:5037"

// Bounds on the settings.
const (
	maxAddresses          = 4096
	defaultConnectTimeout = 5 * time.Second
)

// config is the plugin's settings section, plugins.config.device-adb.
type config struct {
	// ADBServer is the adb server to track devices on; default
	// DefaultServer, "" turns server discovery off.
	ADBServer *string `json:"adb_server"`
	// Addresses are network adb phones connected to directly.
	Addresses []string `json:"addresses"`
	// ADBKey is the private key direct connections authenticate with;
	// default ~/.android/adbkey, created when missing.
	ADBKey string `json:"adb_key"`
	// ConnectTimeout bounds one dial to a direct address ("5s").
	ConnectTimeout string `json:"connect_timeout"`
	// Labels are added to every device.
	Labels map[string]string `json:"labels"`
}

// settings is a validated config.
type settings struct {
	server         string // "" when off
	addresses      []string
	keyPath        string
	connectTimeout time.Duration
	labels         map[string]string
}

// parseConfig decodes and validates a settings section. Unknown keys are
// errors, so a typo does not silently fall back to a default.
func parseConfig(data []byte) (settings, error) {
	var c config
	if t := bytes.TrimSpace(data); len(t) > 0 && string(t) != "null" {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return settings{}, fmt.Errorf("device-adb settings: %w", err)
		}
	}
	s := settings{server: DefaultServer, keyPath: c.ADBKey, connectTimeout: defaultConnectTimeout, labels: maps.Clone(c.Labels)}
	if c.ADBServer != nil {
		s.server = strings.TrimSpace(*c.ADBServer)
	}
	if s.server != "" {
		if err := checkAddr(s.server); err != nil {
			return settings{}, fmt.Errorf("device-adb settings: adb_server: %w", err)
		}
	}
	if len(c.Addresses) > maxAddresses {
		return settings{}, fmt.Errorf("device-adb settings: %d addresses, more than %d", len(c.Addresses), maxAddresses)
	}
	for _, a := range c.Addresses {
		a = strings.TrimSpace(a)
		if err := checkAddr(a); err != nil {
			return settings{}, fmt.Errorf("device-adb settings: addresses: %w", err)
		}
		if !slices.Contains(s.addresses, a) {
			s.addresses = append(s.addresses, a)
		}
	}
	if c.ConnectTimeout != "" {
		d, err := time.ParseDuration(c.ConnectTimeout)
		if err != nil || d <= 0 {
			return settings{}, fmt.Errorf("device-adb settings: connect_timeout %q is not a positive duration such as \"5s\"", c.ConnectTimeout)
		}
		s.connectTimeout = d
	}
	if s.keyPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		s.keyPath = filepath.Join(home, ".android", "adbkey")
	} else if strings.HasPrefix(s.keyPath, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			s.keyPath = filepath.Join(home, s.keyPath[2:])
		}
	}
	return s, nil
}

// checkAddr accepts "host:port" with a port in 1–65535.
func checkAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", a, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || host == "" {
		return fmt.Errorf("%q is not host:port with a port in 1–65535", a)
	}
	return nil
}
