package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/openautoglm/cloudphone/plugins/device-kvm/internal/qmp"
	"github.com/openautoglm/cloudphone/sdk/adb"
)

// Files in a VM's directory (state_dir/<id>/).
const (
	recordFile  = "vm.json"     // the record adoption reads
	overlayFile = "disk.qcow2"  // the per-VM overlay (or blank disk)
	qmpFile     = "qmp.sock"    // QMP unix socket
	pidFile     = "qemu.pid"    // written by QEMU (-pidfile)
	logFile     = "qemu.log"    // QEMU's stdout and stderr
	consoleFile = "console.log" // the guest's serial console
)

// The ports the adb server scans for emulators by itself; host ports
// forwarded to guests never fall there.
const (
	emulatorPortMin = 5555
	emulatorPortMax = 5585
)

// record is what a VM's directory says about it, so that a restarted
// plugin finds and adopts the VMs it had started.
type record struct {
	ID        string            `json:"id"`
	PID       int               `json:"pid"`
	ADBPort   int               `json:"adb_port"` // host port on 127.0.0.1
	Accel     string            `json:"accel"`
	MemoryMiB int               `json:"memory_mib"`
	CPUs      int               `json:"cpus"`
	Labels    map[string]string `json:"labels,omitempty"`
	Created   time.Time         `json:"created"`
	BootMs    int64             `json:"boot_ms"`
	// Spare is true while a released VM waits, reset to its boot
	// snapshot, for the next Provision (settings key spares).
	Spare bool `json:"spare,omitempty"`
}

// vm is one QEMU process and the connections to it.
type vm struct {
	rec record
	dir string
	log *slog.Logger
	adb *adb.Redialer

	exited   chan struct{} // closed once the QEMU process is gone
	stopOnce sync.Once
	cmd      *exec.Cmd // nil for an adopted VM

	qmpMu sync.Mutex // one QMP connection at a time from this plugin
}

// adbAddr is where adb reaches the guest: 127.0.0.1:<forwarded port>.
func (v *vm) adbAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(v.rec.ADBPort)) }

// alive reports whether the QEMU process still runs.
func (v *vm) alive() bool {
	select {
	case <-v.exited:
		return false
	default:
		return true
	}
}

// pickPort returns a free TCP port on 127.0.0.1 outside the range the adb
// server scans for emulators. QEMU binds it a moment later; a port taken
// in between makes QEMU fail to start, and Provision tries again.
func pickPort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a host port: %w", err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if p < emulatorPortMin || p > emulatorPortMax {
			return p, nil
		}
	}
	return 0, errors.New("pick a host port: only ports in 5555–5585 came back")
}

// kvmUsable reports whether /dev/kvm can be opened for reading and
// writing, as QEMU needs.
func kvmUsable() error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return f.Close()
}

// resolveAccel turns the accel setting into kvm or tcg.
func resolveAccel(want string) (string, error) {
	err := kvmUsable()
	switch want {
	case accelKVM:
		if err != nil {
			return "", fmt.Errorf("accel kvm: /dev/kvm is not usable: %w", err)
		}
		return accelKVM, nil
	case accelTCG:
		return accelTCG, nil
	}
	if err != nil {
		return accelTCG, nil
	}
	return accelKVM, nil
}

// imageFormat asks qemu-img for path's format (raw, qcow2, vmdk, …).
func imageFormat(ctx context.Context, qemuImg, path string) (string, error) {
	out, err := exec.CommandContext(ctx, qemuImg, "info", "--output=json", path).Output()
	if err != nil {
		return "", fmt.Errorf("qemu-img info %s: %w%s", path, err, stderrOf(err))
	}
	var info struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(out, &info); err != nil || info.Format == "" {
		return "", fmt.Errorf("qemu-img info %s: no format in %q", path, truncate(out, 200))
	}
	return info.Format, nil
}

// createDisk makes the VM's writable qcow2 disk: an overlay over the base
// image, or a blank disk of disk_size when there is none. Snapshots live
// in it.
func createDisk(ctx context.Context, s settings, dir string) error {
	overlay := filepath.Join(dir, overlayFile)
	args := []string{"create", "-q", "-f", "qcow2"}
	if s.baseImage != "" {
		base, err := filepath.Abs(s.baseImage)
		if err != nil {
			return fmt.Errorf("base image: %w", err)
		}
		format, err := imageFormat(ctx, s.qemuImg, base)
		if err != nil {
			return err
		}
		args = append(args, "-b", base, "-F", format, overlay)
	} else {
		args = append(args, overlay, s.diskSize)
	}
	if out, err := exec.CommandContext(ctx, s.qemuImg, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// qemuArgs is QEMU's command line for one VM.
func qemuArgs(s settings, sp spec, dir, accel string, hostPort int) []string {
	cpu := s.cpu
	if cpu == "" {
		cpu = "max"
		if accel == accelKVM {
			cpu = "host"
		}
	}
	vga := s.vga
	if vga == "" {
		vga = "none"
	}
	args := []string{
		"-name", filepath.Base(dir),
		"-nodefaults", "-no-user-config",
		"-accel", accel, "-cpu", cpu,
		"-m", strconv.Itoa(sp.memoryMiB), "-smp", strconv.Itoa(sp.cpus),
		"-display", "none", "-vga", vga,
		"-serial", "file:" + filepath.Join(dir, consoleFile),
		"-qmp", "unix:" + filepath.Join(dir, qmpFile) + ",server=on,wait=off",
		"-pidfile", filepath.Join(dir, pidFile),
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d", hostPort, s.adbPort),
		"-device", s.netDevice + ",netdev=n0",
		"-drive", "file=" + filepath.Join(dir, overlayFile) + ",format=qcow2,if=" + s.diskIf + ",id=disk0",
	}
	if s.diskIf == "none" {
		// The disk holds snapshots only; no guest device sees it.
		args[len(args)-1] = "file=" + filepath.Join(dir, overlayFile) + ",format=qcow2,if=none,id=disk0"
	}
	if s.kernel != "" {
		args = append(args, "-kernel", s.kernel)
		if s.initrd != "" {
			args = append(args, "-initrd", s.initrd)
		}
		if s.kernelAppend != "" {
			args = append(args, "-append", s.kernelAppend)
		}
	}
	return append(args, s.extraArgs...)
}

// startVM creates the VM's directory and disk and starts QEMU, detached
// in its own session so the VM outlives a plugin restart (the next start
// adopts it). It returns once QMP answers; the guest is still booting.
// On failure nothing is left behind.
func startVM(ctx context.Context, s settings, sp spec, id string, labels map[string]string, log *slog.Logger) (v *vm, err error) {
	accel, err := resolveAccel(s.accel)
	if err != nil {
		return nil, err
	}
	if accel == accelTCG && s.accel == accelAuto {
		log.Warn("device-kvm: /dev/kvm is not usable; falling back to TCG (software emulation, much slower)", "vm", id, "err", kvmUsable())
	}
	dir := filepath.Join(s.stateDir, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create vm dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := createDisk(ctx, s, dir); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a host port taken between pickPort and QEMU's bind
		port, err := pickPort()
		if err != nil {
			return nil, err
		}
		v, err := launch(ctx, s, sp, dir, accel, port, log)
		if err == nil {
			v.rec = record{ID: id, PID: v.cmd.Process.Pid, ADBPort: port, Accel: accel, MemoryMiB: sp.memoryMiB,
				CPUs: sp.cpus, Labels: labels, Created: time.Now().UTC()}
			if err := v.save(); err != nil {
				v.kill()
				return nil, err
			}
			return v, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "hostfwd") && !strings.Contains(err.Error(), "Could not set up host forwarding") {
			break
		}
	}
	return nil, lastErr
}

// launch starts QEMU and connects QMP.
func launch(ctx context.Context, s settings, sp spec, dir, accel string, port int, log *slog.Logger) (*vm, error) {
	logf, err := os.OpenFile(filepath.Join(dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("qemu log: %w", err)
	}
	defer logf.Close()
	_ = os.Remove(filepath.Join(dir, qmpFile))
	cmd := exec.Command(s.qemu, qemuArgs(s, sp, dir, accel, port)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.qemu, err)
	}
	v := &vm{dir: dir, log: log, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(v.exited)
	}()
	c, err := dialQMP(ctx, v)
	if err != nil {
		v.kill()
		return nil, err
	}
	_ = c.Close()
	return v, nil
}

// dialQMP connects to v's QMP socket, waiting for QEMU to create it.
func dialQMP(ctx context.Context, v *vm) (*qmp.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	path := filepath.Join(v.dir, qmpFile)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			c, err := qmp.Dial(ctx, path)
			if err == nil {
				return c, nil
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("connect qmp: %w", err)
			}
		}
		select {
		case <-v.exited:
			return nil, fmt.Errorf("qemu exited: %s", v.tail(logFile, 2000))
		case <-ctx.Done():
			return nil, fmt.Errorf("connect qmp: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// save writes the record atomically.
func (v *vm) save() error {
	b, err := json.MarshalIndent(v.rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode vm record: %w", err)
	}
	tmp := filepath.Join(v.dir, recordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write vm record: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, recordFile)); err != nil {
		return fmt.Errorf("write vm record: %w", err)
	}
	return nil
}

// withQMP connects to QMP, runs fn and disconnects. QEMU serves one QMP
// client at a time, so no connection is held between calls: a second
// plugin instance (or a person with socat) can use the socket too.
func (v *vm) withQMP(ctx context.Context, fn func(*qmp.Client) error) error {
	v.qmpMu.Lock()
	defer v.qmpMu.Unlock()
	if !v.alive() {
		return errors.New("qemu is not running")
	}
	c, err := qmp.Dial(ctx, filepath.Join(v.dir, qmpFile))
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// status runs query-status.
func (v *vm) status(ctx context.Context) (qmp.Status, error) {
	var st qmp.Status
	err := v.withQMP(ctx, func(c *qmp.Client) error {
		var err error
		st, err = c.QueryStatus(ctx)
		return err
	})
	return st, err
}

// stop shuts QEMU down (quit, or powerdown then quit after timeout),
// kills it if it lingers, and removes the VM's directory.
func (v *vm) stop(ctx context.Context, how string, timeout time.Duration) error {
	var err error
	v.stopOnce.Do(func() { err = v.doStop(ctx, how, timeout) })
	return err
}

func (v *vm) doStop(ctx context.Context, how string, timeout time.Duration) error {
	if v.adb != nil {
		_ = v.adb.Close()
	}
	if v.alive() {
		if how == shutdownPowerdown {
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := v.withQMP(qctx, func(c *qmp.Client) error { return c.Powerdown(qctx) }); err != nil {
				v.log.Warn("device-kvm: powerdown failed; quitting", "vm", v.rec.ID, "err", err)
			}
			cancel()
			v.wait(ctx, timeout)
		}
		if v.alive() {
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := v.withQMP(qctx, func(c *qmp.Client) error { return c.Quit(qctx) }); err != nil && v.alive() {
				v.log.Warn("device-kvm: qmp quit failed; killing", "vm", v.rec.ID, "err", err)
			}
			cancel()
			v.wait(ctx, 10*time.Second)
		}
		if v.alive() {
			v.kill()
		}
	}
	if v.alive() {
		return fmt.Errorf("qemu pid %d did not exit", v.rec.PID)
	}
	if err := os.RemoveAll(v.dir); err != nil {
		return fmt.Errorf("remove %s: %w", v.dir, err)
	}
	return nil
}

// wait waits until QEMU has exited, d has passed or ctx ended.
func (v *vm) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-v.exited:
	case <-t.C:
	case <-ctx.Done():
	}
}

// kill sends SIGKILL and waits (briefly) for the process to go.
func (v *vm) kill() {
	if v.cmd != nil {
		_ = v.cmd.Process.Kill()
	} else if v.rec.PID > 0 {
		_ = syscall.Kill(v.rec.PID, syscall.SIGKILL)
	}
	v.wait(context.Background(), 5*time.Second)
}

// tail returns the last n bytes of one of the VM's files, for errors.
func (v *vm) tail(name string, n int) string {
	b, err := os.ReadFile(filepath.Join(v.dir, name))
	if err != nil {
		return "(no " + name + ")"
	}
	return strings.TrimSpace(string(truncateHead(b, n)))
}

func truncateHead(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// stderrOf returns ": <stderr>" for an *exec.ExitError with output.
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
