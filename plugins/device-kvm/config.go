package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults for the settings section, plugins.config.device-kvm.
const (
	defaultQEMU        = "qemu-system-x86_64"
	defaultQEMUImg     = "qemu-img"
	defaultMemoryMiB   = 2048
	defaultCPUs        = 2
	defaultADBPort     = 5555
	defaultNetDevice   = "e1000"
	defaultDiskSize    = "8G"
	defaultBootTimeout = 3 * time.Minute
	defaultStopTimeout = 20 * time.Second
	defaultMaxVMs      = 16
)

// Accelerators.
const (
	accelAuto = "auto"
	accelKVM  = "kvm"
	accelTCG  = "tcg"
)

// Ways Release stops a VM.
const (
	shutdownQuit      = "quit"      // QMP quit: QEMU exits at once
	shutdownPowerdown = "powerdown" // ACPI power button, then quit/kill after stop_timeout
)

// config is the settings section as JSON. Unknown keys are errors, so a
// typo does not silently fall back to a default.
type config struct {
	QEMU        string            `json:"qemu"`
	QEMUImg     string            `json:"qemu_img"`
	BaseImage   string            `json:"base_image"`
	DiskSize    string            `json:"disk_size"`
	DiskIf      string            `json:"disk_interface"`
	Kernel      string            `json:"kernel"`
	Initrd      string            `json:"initrd"`
	Append      string            `json:"append"`
	MemoryMiB   int               `json:"memory_mib"`
	CPUs        int               `json:"cpus"`
	CPU         string            `json:"cpu"`
	Accel       string            `json:"accel"`
	ADBPort     int               `json:"adb_port"`
	NetDevice   string            `json:"net_device"`
	VGA         string            `json:"vga"`
	ExtraArgs   []string          `json:"extra_args"`
	StateDir    string            `json:"state_dir"`
	BootTimeout string            `json:"boot_timeout"`
	Shutdown    string            `json:"shutdown"`
	StopTimeout string            `json:"stop_timeout"`
	ADBKey      string            `json:"adb_key"`
	MaxVMs      int               `json:"max_vms"`
	Spares      int               `json:"spares"`
	Labels      map[string]string `json:"labels"`
}

// settings is a validated config.
type settings struct {
	qemu, qemuImg string
	baseImage     string // "" boots from kernel or an empty disk of diskSize
	diskSize      string
	diskIf        string // -drive if=: virtio (default), ide, scsi, none
	kernel        string
	initrd        string
	kernelAppend  string
	memoryMiB     int
	cpus          int
	cpu           string // "" picks host (kvm) or max (tcg)
	accel         string
	adbPort       int // adbd's port inside the guest
	netDevice     string
	vga           string // "" means -vga none
	extraArgs     []string
	stateDir      string
	bootTimeout   time.Duration
	shutdown      string
	stopTimeout   time.Duration
	adbKey        string
	maxVMs        int
	spares        int // released VMs kept, reset to their boot snapshot, for the next Provision
	labels        map[string]string
}

// defaultStateDir is where VM directories live when state_dir is unset:
// $XDG_STATE_HOME/cloudphone/kvm, else ~/.local/state/cloudphone/kvm.
func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "cloudphone", "kvm")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "cloudphone", "kvm")
	}
	return filepath.Join(os.TempDir(), "cloudphone-kvm")
}

// parseConfig decodes and validates a settings section; empty or null
// data gives the defaults.
func parseConfig(data []byte) (settings, error) {
	var c config
	if t := bytes.TrimSpace(data); len(t) > 0 && string(t) != "null" {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return settings{}, fmt.Errorf("device-kvm settings: %w", err)
		}
	}
	s := settings{
		qemu: or(c.QEMU, defaultQEMU), qemuImg: or(c.QEMUImg, defaultQEMUImg),
		baseImage: c.BaseImage, diskSize: or(c.DiskSize, defaultDiskSize), diskIf: or(c.DiskIf, "virtio"),
		kernel: c.Kernel, initrd: c.Initrd, kernelAppend: c.Append,
		memoryMiB: c.MemoryMiB, cpus: c.CPUs, cpu: c.CPU, accel: or(c.Accel, accelAuto),
		adbPort: c.ADBPort, netDevice: or(c.NetDevice, defaultNetDevice), vga: c.VGA,
		extraArgs: c.ExtraArgs, stateDir: or(c.StateDir, defaultStateDir()),
		shutdown: or(c.Shutdown, shutdownQuit), adbKey: c.ADBKey, maxVMs: c.MaxVMs, spares: c.Spares,
		labels: maps.Clone(c.Labels),
	}
	if s.memoryMiB == 0 {
		s.memoryMiB = defaultMemoryMiB
	}
	if s.memoryMiB < 64 || s.memoryMiB > 1<<20 {
		return settings{}, fmt.Errorf("device-kvm settings: memory_mib %d is out of range 64–1048576", s.memoryMiB)
	}
	if s.cpus == 0 {
		s.cpus = defaultCPUs
	}
	if s.cpus < 1 || s.cpus > 256 {
		return settings{}, fmt.Errorf("device-kvm settings: cpus %d is out of range 1–256", s.cpus)
	}
	switch s.accel {
	case accelAuto, accelKVM, accelTCG:
	default:
		return settings{}, fmt.Errorf("device-kvm settings: accel %q is not auto, kvm or tcg", s.accel)
	}
	if s.adbPort == 0 {
		s.adbPort = defaultADBPort
	}
	if s.adbPort < 1 || s.adbPort > 65535 {
		return settings{}, fmt.Errorf("device-kvm settings: adb_port %d is out of range 1–65535", s.adbPort)
	}
	switch s.diskIf {
	case "virtio", "ide", "scsi", "none":
	default:
		return settings{}, fmt.Errorf("device-kvm settings: disk_interface %q is not virtio, ide, scsi or none", s.diskIf)
	}
	switch s.shutdown {
	case shutdownQuit, shutdownPowerdown:
	default:
		return settings{}, fmt.Errorf("device-kvm settings: shutdown %q is not quit or powerdown", s.shutdown)
	}
	var err error
	if s.bootTimeout, err = duration("boot_timeout", c.BootTimeout, defaultBootTimeout); err != nil {
		return settings{}, err
	}
	if s.stopTimeout, err = duration("stop_timeout", c.StopTimeout, defaultStopTimeout); err != nil {
		return settings{}, err
	}
	if s.maxVMs == 0 {
		s.maxVMs = defaultMaxVMs
	}
	if s.maxVMs < 0 {
		return settings{}, fmt.Errorf("device-kvm settings: max_vms %d is negative", s.maxVMs)
	}
	if s.spares < 0 || s.spares > s.maxVMs {
		return settings{}, fmt.Errorf("device-kvm settings: spares %d is out of range 0–max_vms (%d)", s.spares, s.maxVMs)
	}
	if s.initrd != "" && s.kernel == "" {
		return settings{}, fmt.Errorf("device-kvm settings: initrd %q needs kernel", s.initrd)
	}
	if s.kernelAppend != "" && s.kernel == "" {
		return settings{}, fmt.Errorf("device-kvm settings: append needs kernel")
	}
	// QEMU runs in the VM's directory: relative paths would not resolve.
	for _, f := range []struct {
		key string
		p   *string
	}{{"state_dir", &s.stateDir}, {"base_image", &s.baseImage}, {"kernel", &s.kernel}, {"initrd", &s.initrd}} {
		if *f.p == "" || filepath.IsAbs(*f.p) {
			continue
		}
		abs, err := filepath.Abs(*f.p)
		if err != nil {
			return settings{}, fmt.Errorf("device-kvm settings: %s: %w", f.key, err)
		}
		*f.p = abs
	}
	// A unix socket path is at most 107 bytes: the QMP socket lives at
	// state_dir/kvm-XXXXXXXX/qmp.sock.
	if n := len(s.stateDir) + len("/kvm-00000000/qmp.sock"); n > 107 {
		return settings{}, fmt.Errorf("device-kvm settings: state_dir %q is too long for a unix socket path (%d bytes, at most 107)", s.stateDir, n)
	}
	return s, nil
}

// duration parses a Go duration such as "90s", or returns def for "".
func duration(key, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("device-kvm settings: %s: %w", key, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("device-kvm settings: %s %s is not positive", key, v)
	}
	return d, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// spec is what one VM is booted with: the settings, adjusted by a
// Provision request's options.
type spec struct {
	memoryMiB int
	cpus      int
}

// specFor applies a Provision request's options (memory_mib, cpus) to
// the settings' defaults. Unknown options are returned so the caller can
// log them.
func (s settings) specFor(opts map[string]string) (spec, []string, error) {
	sp := spec{memoryMiB: s.memoryMiB, cpus: s.cpus}
	var ignored []string
	for k, v := range opts {
		switch k {
		case "memory_mib":
			n, err := strconv.Atoi(v)
			if err != nil || n < 64 || n > 1<<20 {
				return spec{}, nil, fmt.Errorf("option memory_mib %q is not a number in 64–1048576", v)
			}
			sp.memoryMiB = n
		case "cpus":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 256 {
				return spec{}, nil, fmt.Errorf("option cpus %q is not a number in 1–256", v)
			}
			sp.cpus = n
		default:
			ignored = append(ignored, k)
		}
	}
	return sp, ignored, nil
}
