package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Defaults for the settings section, plugins.config.device-docker.
const (
	defaultImage       = "redroid/redroid:12.0.0-latest"
	defaultEndpoint    = "unix:///var/run/docker.sock"
	defaultADBPort     = 5555
	defaultWidth       = 720
	defaultHeight      = 1280
	defaultDPI         = 320
	defaultMemoryMiB   = 4096
	defaultCPUs        = 2
	defaultGPU         = "guest"
	defaultInstance    = "default"
	defaultBootTimeout = 3 * time.Minute
	defaultMaxDevices  = 32
)

// defaultCommand is redroid's boot arguments: the container's command is
// a list of androidboot.* properties (redroid's init reads them).
var defaultCommand = []string{
	"androidboot.redroid_width={width}",
	"androidboot.redroid_height={height}",
	"androidboot.redroid_dpi={dpi}",
	"androidboot.redroid_gpu_mode={gpu}",
}

// gpuModes are redroid's androidboot.redroid_gpu_mode values.
var gpuModes = map[string]bool{"guest": true, "host": true, "auto": true}

// config is the settings section as JSON. Unknown keys are errors, so a
// typo does not silently fall back to a default.
type config struct {
	Endpoint    string            `json:"endpoint"`
	APIVersion  string            `json:"api_version"`
	Image       string            `json:"image"`
	ADBPort     int               `json:"adb_port"`
	Command     []string          `json:"command"`
	Width       int               `json:"width"`
	Height      int               `json:"height"`
	DPI         int               `json:"dpi"`
	MemoryMiB   *int              `json:"memory_mib"`
	CPUs        *float64          `json:"cpus"`
	GPU         string            `json:"gpu"`
	GPUDevices  []string          `json:"gpu_devices"`
	Privileged  *bool             `json:"privileged"`
	Pull        string            `json:"pull"`
	Labels      map[string]string `json:"labels"`
	Instance    string            `json:"instance"`
	BootTimeout string            `json:"boot_timeout"`
	ADBKey      string            `json:"adb_key"`
	MaxDevices  int               `json:"max_devices"`
}

// settings is a validated config.
type settings struct {
	endpoint    string
	apiVersion  string // empty: negotiate
	adbPort     int
	command     []string
	spec        spec // defaults for every Provision
	gpuDevices  []string
	privileged  bool
	pull        bool
	labels      map[string]string
	instance    string
	bootTimeout time.Duration
	adbKey      string
	maxDevices  int
}

// spec is what one container is made of: the config's defaults overlaid
// with a ProvisionRequest's options.
type spec struct {
	image     string
	width     int
	height    int
	dpi       int
	memoryMiB int     // 0: no limit
	cpus      float64 // 0: no limit
	gpu       string
}

// parseConfig decodes and validates a settings section.
func parseConfig(data []byte) (settings, error) {
	var c config
	if t := bytes.TrimSpace(data); len(t) > 0 && string(t) != "null" {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return settings{}, fmt.Errorf("device-docker settings: %w", err)
		}
	}
	s := settings{
		endpoint: c.Endpoint, apiVersion: strings.TrimPrefix(c.APIVersion, "v"), adbPort: c.ADBPort,
		command: c.Command, gpuDevices: c.GPUDevices, privileged: true, pull: true,
		labels: maps.Clone(c.Labels), instance: c.Instance, bootTimeout: defaultBootTimeout,
		adbKey: c.ADBKey, maxDevices: c.MaxDevices,
		spec: spec{image: c.Image, width: c.Width, height: c.Height, dpi: c.DPI,
			memoryMiB: defaultMemoryMiB, cpus: defaultCPUs, gpu: c.GPU},
	}
	if s.endpoint == "" {
		s.endpoint = os.Getenv("DOCKER_HOST")
	}
	if s.endpoint == "" {
		s.endpoint = defaultEndpoint
	}
	if s.spec.image == "" {
		s.spec.image = defaultImage
	}
	if s.adbPort == 0 {
		s.adbPort = defaultADBPort
	}
	if s.adbPort < 1 || s.adbPort > 65535 {
		return settings{}, fmt.Errorf("device-docker settings: adb_port %d is out of range 1–65535", s.adbPort)
	}
	if s.command == nil {
		s.command = defaultCommand
	}
	if s.spec.width == 0 {
		s.spec.width = defaultWidth
	}
	if s.spec.height == 0 {
		s.spec.height = defaultHeight
	}
	if s.spec.dpi == 0 {
		s.spec.dpi = defaultDPI
	}
	if c.MemoryMiB != nil {
		s.spec.memoryMiB = *c.MemoryMiB
	}
	if c.CPUs != nil {
		s.spec.cpus = *c.CPUs
	}
	if s.spec.gpu == "" {
		s.spec.gpu = defaultGPU
	}
	if s.gpuDevices == nil {
		s.gpuDevices = []string{"/dev/dri"}
	}
	if c.Privileged != nil {
		s.privileged = *c.Privileged
	}
	switch c.Pull {
	case "", "missing":
	case "never":
		s.pull = false
	default:
		return settings{}, fmt.Errorf("device-docker settings: pull %q: want missing or never", c.Pull)
	}
	if s.instance == "" {
		s.instance = defaultInstance
	}
	if c.BootTimeout != "" {
		d, err := time.ParseDuration(c.BootTimeout)
		if err != nil || d <= 0 {
			return settings{}, fmt.Errorf("device-docker settings: boot_timeout %q is not a duration such as \"3m\"", c.BootTimeout)
		}
		s.bootTimeout = d
	}
	if s.maxDevices == 0 {
		s.maxDevices = defaultMaxDevices
	}
	if s.maxDevices < 0 {
		return settings{}, fmt.Errorf("device-docker settings: max_devices %d is negative", s.maxDevices)
	}
	if s.adbKey == "" {
		if home, err := os.UserHomeDir(); err == nil {
			s.adbKey = filepath.Join(home, ".android", "adbkey")
		}
	}
	if err := s.spec.validate(); err != nil {
		return settings{}, fmt.Errorf("device-docker settings: %w", err)
	}
	return s, nil
}

// validate checks a spec's ranges.
func (p spec) validate() error {
	for _, v := range []struct {
		name   string
		n, lo  int
		hi     int
		zeroOK bool
	}{
		{"width", p.width, 64, 8192, false},
		{"height", p.height, 64, 8192, false},
		{"dpi", p.dpi, 72, 1280, false},
		{"memory_mib", p.memoryMiB, 64, 1 << 20, true},
	} {
		if v.zeroOK && v.n == 0 {
			continue
		}
		if v.n < v.lo || v.n > v.hi {
			return fmt.Errorf("%s %d is out of range %d–%d", v.name, v.n, v.lo, v.hi)
		}
	}
	if p.cpus < 0 || p.cpus > 1024 {
		return fmt.Errorf("cpus %g is out of range 0–1024", p.cpus)
	}
	if !gpuModes[p.gpu] {
		return fmt.Errorf("gpu %q: want guest, host or auto", p.gpu)
	}
	if strings.TrimSpace(p.image) == "" {
		return fmt.Errorf("empty image")
	}
	return nil
}

// withOptions overlays a ProvisionRequest's options on p. Unknown keys
// are errors.
func (p spec) withOptions(opts map[string]string) (spec, error) {
	for k, v := range opts {
		var err error
		switch k {
		case "image":
			p.image = v
		case "width":
			p.width, err = strconv.Atoi(v)
		case "height":
			p.height, err = strconv.Atoi(v)
		case "resolution":
			w, h, ok := strings.Cut(v, "x")
			if !ok {
				return spec{}, fmt.Errorf("option resolution %q: want WIDTHxHEIGHT", v)
			}
			if p.width, err = strconv.Atoi(w); err == nil {
				p.height, err = strconv.Atoi(h)
			}
		case "dpi":
			p.dpi, err = strconv.Atoi(v)
		case "memory_mib":
			p.memoryMiB, err = strconv.Atoi(v)
		case "cpus":
			p.cpus, err = strconv.ParseFloat(v, 64)
		case "gpu":
			p.gpu = v
		default:
			return spec{}, fmt.Errorf("unknown option %q (want image, width, height, resolution, dpi, memory_mib, cpus, gpu)", k)
		}
		if err != nil {
			return spec{}, fmt.Errorf("option %s %q: not a number", k, v)
		}
	}
	if err := p.validate(); err != nil {
		return spec{}, err
	}
	return p, nil
}

// expand fills the {placeholders} of the command template.
func (p spec) expand(command []string, adbPort int) []string {
	r := strings.NewReplacer(
		"{width}", strconv.Itoa(p.width), "{height}", strconv.Itoa(p.height),
		"{dpi}", strconv.Itoa(p.dpi), "{gpu}", p.gpu, "{adb_port}", strconv.Itoa(adbPort))
	out := make([]string, len(command))
	for i, a := range command {
		out[i] = r.Replace(a)
	}
	return out
}
