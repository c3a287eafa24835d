package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestParseConfigDefaults(t *testing.T) {
	s, err := parseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.qemu != defaultQEMU || s.memoryMiB != defaultMemoryMiB || s.cpus != defaultCPUs || s.accel != accelAuto ||
		s.adbPort != 5555 || s.shutdown != shutdownQuit || s.bootTimeout != defaultBootTimeout || s.maxVMs != defaultMaxVMs ||
		s.diskIf != "virtio" || !filepath.IsAbs(s.stateDir) {
		t.Errorf("defaults: %+v", s)
	}
}

func TestParseConfigAbsolutePaths(t *testing.T) {
	s, err := parseConfig([]byte(`{"kernel": "k/vmlinuz", "initrd": "i.gz", "base_image": "base.qcow2", "state_dir": "vms"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.kernel, s.initrd, s.baseImage, s.stateDir} {
		if !filepath.IsAbs(p) {
			t.Errorf("%q is not absolute", p)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	long := "/" + strings.Repeat("d", 100)
	for _, c := range []string{
		`{"bogus": 1}`, `{"accel": "hvf"}`, `{"memory_mib": 10}`, `{"cpus": -1}`, `{"adb_port": 70000}`,
		`{"shutdown": "halt"}`, `{"boot_timeout": "soon"}`, `{"stop_timeout": "-1s"}`, `{"initrd": "/x"}`,
		`{"append": "quiet"}`, `{"disk_interface": "floppy"}`, `{"max_vms": -2}`, `{"state_dir": "` + long + `"}`, `{not json`,
	} {
		if _, err := parseConfig([]byte(c)); err == nil {
			t.Errorf("parseConfig(%s) succeeded", c)
		} else if !strings.HasPrefix(err.Error(), "device-kvm settings: ") {
			t.Errorf("parseConfig(%s): error %q lacks the prefix", c, err)
		}
	}
}

func TestSpecFor(t *testing.T) {
	s, _ := parseConfig([]byte(`{"memory_mib": 512, "cpus": 1}`))
	sp, ignored, err := s.specFor(map[string]string{"memory_mib": "1024", "gpu": "host"})
	if err != nil || sp.memoryMiB != 1024 || sp.cpus != 1 || !slices.Equal(ignored, []string{"gpu"}) {
		t.Errorf("specFor: %+v %v %v", sp, ignored, err)
	}
	if _, _, err := s.specFor(map[string]string{"cpus": "lots"}); err == nil {
		t.Error("specFor accepted cpus=lots")
	}
}

func TestQEMUArgs(t *testing.T) {
	s, err := parseConfig([]byte(`{"kernel": "/k", "initrd": "/i", "append": "quiet", "extra_args": ["-no-reboot"], "memory_mib": 256, "cpus": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(qemuArgs(s, spec{memoryMiB: 256, cpus: 1}, "/s/kvm-1", accelTCG, 40000), " ")
	for _, want := range []string{
		"-accel tcg -cpu max", "-m 256 -smp 1", "-display none -vga none",
		"hostfwd=tcp:127.0.0.1:40000-:5555", "-device e1000,netdev=n0",
		"-qmp unix:/s/kvm-1/qmp.sock,server=on,wait=off", "file=/s/kvm-1/disk.qcow2,format=qcow2,if=virtio",
		"-kernel /k -initrd /i -append quiet -no-reboot",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if a := strings.Join(qemuArgs(s, spec{memoryMiB: 256, cpus: 1}, "/s/kvm-1", accelKVM, 40000), " "); !strings.Contains(a, "-accel kvm -cpu host") {
		t.Errorf("kvm args: %s", a)
	}
}

func TestPickPort(t *testing.T) {
	for range 50 {
		p, err := pickPort()
		if err != nil {
			t.Fatal(err)
		}
		if p >= emulatorPortMin && p <= emulatorPortMax {
			t.Fatalf("picked %d, a port the adb server scans", p)
		}
	}
}

// noQEMU is a config whose QEMU does not exist.
func noQEMU(t *testing.T) string {
	return `{"qemu": "/nonexistent/qemu-system-x86_64", "qemu_img": "/nonexistent/qemu-img", "state_dir": "` + filepath.Join(t.TempDir(), "vms") + `"}`
}

// TestNoQEMU: without QEMU the backend still answers, says why in
// backend_status and Health, and refuses to provision.
func TestNoQEMU(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := newBackend(testLog(t))
	if err := b.Configure(ctx, []byte(noQEMU(t))); err != nil {
		t.Fatal(err)
	}
	list, err := b.List(ctx, &cpv1.ListRequest{})
	if err != nil || !strings.Contains(list.GetBackendStatus(), "QEMU is not installed") {
		t.Fatalf("List: %v, %v", list, err)
	}
	h, err := b.Health(ctx, &cpv1.HealthRequest{})
	if err != nil || h.GetOk() {
		t.Fatalf("Health: %v, %v", h, err)
	}
	if _, err := b.Provision(ctx, &cpv1.ProvisionRequest{}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Provision without QEMU: %v, want FailedPrecondition", err)
	}
}

// TestConformanceNoQEMU: the built plugin loads and passes the suite with
// no QEMU (no devices to check).
func TestConformanceNoQEMU(t *testing.T) {
	plugintest.Device(t, pluginbuild.GoBinary(t, ".", ""), plugintest.WithConfig(noQEMU(t)))
}

// TestStaleDirRemoved: a VM directory whose QEMU is gone is cleaned up
// when the backend starts; other directories are left alone.
func TestStaleDirRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vms")
	stale := filepath.Join(dir, "kvm-deadbeef")
	other := filepath.Join(dir, "keep-me")
	for _, d := range []string{stale, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	rec := `{"id": "kvm-deadbeef", "pid": 999999999, "adb_port": 40000}`
	if err := os.WriteFile(filepath.Join(stale, recordFile), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	b := newBackend(testLog(t))
	if err := b.Configure(context.Background(), []byte(`{"state_dir": "`+dir+`"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale vm dir left: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated dir removed: %v", err)
	}
	if list, _ := b.List(context.Background(), &cpv1.ListRequest{}); len(list.GetDevices()) != 0 {
		t.Errorf("List: %v", list)
	}
}

// TestProvisionFailures: a QEMU that cannot start, or a guest that never
// answers adb, fails Provision with QEMU's or the console's words and
// leaves nothing behind.
func TestProvisionFailures(t *testing.T) {
	if _, err := exec.LookPath(defaultQEMU); err != nil {
		t.Skip(defaultQEMU + " is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"bad argument", `"extra_args": ["-no-such-option"]`, "no-such-option"},
		{"no adb", `"memory_mib": 64, "cpus": 1, "boot_timeout": "2s", "disk_size": "1M"`, "boot_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "vms")
			b := newBackend(testLog(t))
			t.Cleanup(func() { killQEMUs(t, dir) })
			if err := b.Configure(ctx, []byte(`{"state_dir": "`+dir+`", `+tc.cfg+`}`)); err != nil {
				t.Fatal(err)
			}
			_, err := b.Provision(ctx, &cpv1.ProvisionRequest{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Provision: %v, want an error naming %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("left behind: %v", ents)
			}
		})
	}
	if kvmUsable() != nil {
		b := newBackend(testLog(t))
		if err := b.Configure(ctx, []byte(`{"accel": "kvm", "state_dir": "`+filepath.Join(t.TempDir(), "vms")+`"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Provision(ctx, &cpv1.ProvisionRequest{}); err == nil || !strings.Contains(err.Error(), "/dev/kvm") {
			t.Errorf("Provision with accel kvm and no /dev/kvm: %v", err)
		}
	}
}
