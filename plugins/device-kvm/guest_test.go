package main

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The test guest is the tiny Linux of ../shared/reference/environment.md:
// Debian's kernel (vmlinuz, and e1000.ko since the kernel has the NIC as
// a module) from the asset cache that fetch-kernel.sh fills, and an
// initramfs built here, once per test binary: a static busybox, e1000.ko,
// an /init that brings up eth0 as 10.0.2.15/24 (QEMU's user network) and
// execs testdata/phone, a statically linked simulated phone serving adb
// on 0.0.0.0:6100 inside the VM.

// guestADBPort is where the test guest's phone serves adb.
const guestADBPort = 6100

const guestInit = `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t tmpfs tmp /tmp
/bin/busybox insmod /lib/e1000.ko
/bin/busybox ifconfig lo 127.0.0.1 up
/bin/busybox ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
/bin/busybox route add default gw 10.0.2.2
echo "cloudphone test guest: eth0 up, starting the phone"
exec /bin/phone 0.0.0.0:6100
`

// guestAssets is the built test guest.
type guestAssets struct {
	kernel, initrd string
}

var (
	guestOnce sync.Once
	guest     guestAssets
	guestSkip string // why real VM tests skip; "" when they run
	guestErr  error
	guestDir  string // removed by TestMain
)

// assetsDir is where fetch-kernel.sh puts vmlinuz and e1000.ko.
func assetsDir() string {
	if d := os.Getenv("CLOUDPHONE_KVM_ASSETS"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "cloudphone-kvm-assets")
	}
	return filepath.Join(home, ".cache", "cloudphone", "kvm")
}

// testGuest returns the test guest, building its initramfs on first use.
// It skips the test, saying why, only when QEMU or the kernel asset is
// missing; anything else that fails is a test failure.
func testGuest(t *testing.T) guestAssets {
	t.Helper()
	guestOnce.Do(func() { guest, guestSkip, guestErr = buildGuest() })
	if guestSkip != "" {
		t.Skip(guestSkip)
	}
	if guestErr != nil {
		t.Fatalf("build the test guest: %v", guestErr)
	}
	return guest
}

func buildGuest() (guestAssets, string, error) {
	for _, bin := range []string{defaultQEMU, defaultQEMUImg} {
		if _, err := exec.LookPath(bin); err != nil {
			return guestAssets{}, bin + " is not installed (apt-get install qemu-system-x86 qemu-utils); real VM tests skipped", nil
		}
	}
	dir := assetsDir()
	kernel, e1000 := filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "e1000.ko")
	for _, f := range []string{kernel, e1000} {
		if _, err := os.Stat(f); err != nil {
			return guestAssets{}, fmt.Sprintf("%s is missing (run plugins/device-kvm/fetch-kernel.sh %s); real VM tests skipped", f, dir), nil
		}
	}
	busybox, err := staticBusybox(dir)
	if err != nil {
		return guestAssets{}, "", err
	}
	work, err := os.MkdirTemp("", "device-kvm-guest-")
	if err != nil {
		return guestAssets{}, "", err
	}
	guestDir = work
	phone := filepath.Join(work, "phone")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", phone, "./testdata/phone")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		return guestAssets{}, "", fmt.Errorf("build testdata/phone: %w\n%s", err, out)
	}
	files := []cpioFile{
		{name: "bin", mode: modeDir | 0o755},
		{name: "dev", mode: modeDir | 0o755},
		{name: "dev/console", mode: modeChar | 0o600, rdevMajor: 5, rdevMinor: 1},
		{name: "lib", mode: modeDir | 0o755},
		{name: "proc", mode: modeDir | 0o755},
		{name: "sys", mode: modeDir | 0o755},
		{name: "tmp", mode: modeDir | 0o1777},
		{name: "init", mode: modeFile | 0o755, data: []byte(guestInit)},
		{name: "bin/sh", mode: modeLink | 0o777, data: []byte("busybox")},
	}
	for _, f := range []struct{ name, src string }{
		{"bin/busybox", busybox}, {"bin/phone", phone}, {"lib/e1000.ko", e1000},
	} {
		b, err := os.ReadFile(f.src)
		if err != nil {
			return guestAssets{}, "", err
		}
		files = append(files, cpioFile{name: f.name, mode: modeFile | 0o755, data: b})
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := writeCPIO(zw, files); err != nil {
		return guestAssets{}, "", err
	}
	if err := zw.Close(); err != nil {
		return guestAssets{}, "", err
	}
	initrd := filepath.Join(work, "initrd.cpio.gz")
	if err := os.WriteFile(initrd, buf.Bytes(), 0o644); err != nil {
		return guestAssets{}, "", err
	}
	return guestAssets{kernel: kernel, initrd: initrd}, "", nil
}

// staticBusybox finds a statically linked busybox: in the asset cache,
// else Debian's busybox-static (/bin/busybox).
func staticBusybox(assets string) (string, error) {
	cands := []string{filepath.Join(assets, "busybox"), "/bin/busybox", "/usr/bin/busybox"}
	if p, err := exec.LookPath("busybox"); err == nil {
		cands = append(cands, p)
	}
	for _, p := range cands {
		if static, err := isStatic(p); err == nil && static {
			return p, nil
		}
	}
	return "", errors.New("no statically linked busybox (apt-get install busybox-static)")
}

// isStatic reports whether the ELF file at path has no interpreter.
func isStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}
