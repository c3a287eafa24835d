package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	s, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := spec{image: defaultImage, width: 720, height: 1280, dpi: 320, memoryMiB: 4096, cpus: 2, gpu: "guest"}
	if s.spec != want {
		t.Errorf("spec %+v, want %+v", s.spec, want)
	}
	if s.endpoint != defaultEndpoint || s.adbPort != 5555 || !s.privileged || !s.pull || s.instance != "default" ||
		s.bootTimeout != 3*time.Minute || s.maxDevices != 32 || !slices.Equal(s.gpuDevices, []string{"/dev/dri"}) {
		t.Errorf("settings %+v", s)
	}
	t.Setenv("DOCKER_HOST", "tcp://10.0.0.2:2375")
	if s, _ := parseConfig([]byte(`{}`)); s.endpoint != "tcp://10.0.0.2:2375" {
		t.Errorf("endpoint %q, want DOCKER_HOST's", s.endpoint)
	}
	s, err = parseConfig([]byte(`{"memory_mib": 0, "cpus": 0, "command": [], "privileged": false, "pull": "never", "api_version": "v1.41"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.spec.memoryMiB != 0 || s.spec.cpus != 0 || s.command == nil || len(s.command) != 0 || s.privileged || s.pull || s.apiVersion != "1.41" {
		t.Errorf("explicit zeroes: %+v", s)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, c := range []string{
		`{"bogus": 1}`, `{not json`, `{"adb_port": 70000}`, `{"width": 10}`, `{"dpi": 5000}`,
		`{"gpu": "quantum"}`, `{"cpus": -1}`, `{"memory_mib": 10}`, `{"pull": "always"}`,
		`{"boot_timeout": "soon"}`, `{"boot_timeout": "-1s"}`, `{"max_devices": -1}`, `{"image": " "}`,
	} {
		if _, err := parseConfig([]byte(c)); err == nil {
			t.Errorf("parseConfig(%s) accepted", c)
		} else if !strings.HasPrefix(err.Error(), "device-docker settings: ") {
			t.Errorf("parseConfig(%s): %v, want a device-docker settings error", c, err)
		}
	}
}

func TestSpecOptions(t *testing.T) {
	base := spec{image: "img", width: 720, height: 1280, dpi: 320, memoryMiB: 4096, cpus: 2, gpu: "guest"}
	got, err := base.withOptions(map[string]string{"resolution": "1080x2400", "dpi": "440", "cpus": "1.5", "gpu": "host", "image": "other", "memory_mib": "2048"})
	if err != nil {
		t.Fatal(err)
	}
	want := spec{image: "other", width: 1080, height: 2400, dpi: 440, memoryMiB: 2048, cpus: 1.5, gpu: "host"}
	if got != want {
		t.Errorf("withOptions: %+v, want %+v", got, want)
	}
	for _, opts := range []map[string]string{
		{"resolution": "1080"}, {"resolution": "ax2"}, {"width": "1e3"}, {"gpu": "x"}, {"cpus": "many"}, {"colour": "red"},
	} {
		if _, err := base.withOptions(opts); err == nil {
			t.Errorf("withOptions(%v) accepted", opts)
		}
	}
	cmd := want.expand([]string{"--listen", "0.0.0.0:{adb_port}", "{width}x{height}@{dpi}", "{gpu}"}, 6100)
	if strings.Join(cmd, " ") != "--listen 0.0.0.0:6100 1080x2400@440 host" {
		t.Errorf("expand: %q", cmd)
	}
}
