package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
)

// vmDirPrefix starts the name of every VM directory under state_dir;
// adoption looks at those only.
const vmDirPrefix = "kvm-"

// scanStateDir finds the VMs a previous run of the plugin left in
// stateDir. A VM whose QEMU still runs is adopted; the directory of one
// that is gone is removed. known are the ids already served (skipped).
func scanStateDir(ctx context.Context, stateDir string, known map[string]bool, opts *adb.DialOptions, log *slog.Logger) []*vm {
	ents, err := os.ReadDir(stateDir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("device-kvm: read state dir", "dir", stateDir, "err", err)
		}
		return nil
	}
	var out []*vm
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), vmDirPrefix) || known[e.Name()] {
			continue
		}
		dir := filepath.Join(stateDir, e.Name())
		v, err := adopt(ctx, dir, opts, log)
		if err != nil {
			log.Info("device-kvm: removing a stale vm directory", "dir", dir, "reason", err)
			if err := os.RemoveAll(dir); err != nil {
				log.Warn("device-kvm: remove stale vm directory", "dir", dir, "err", err)
			}
			continue
		}
		log.Info("device-kvm: adopted a running vm", "vm", v.rec.ID, "pid", v.rec.PID, "adb", v.adbAddr())
		out = append(out, v)
	}
	return out
}

// adopt takes over the VM in dir if its QEMU still runs.
func adopt(ctx context.Context, dir string, opts *adb.DialOptions, log *slog.Logger) (*vm, error) {
	b, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		return nil, fmt.Errorf("no record: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("bad record: %w", err)
	}
	if rec.ID != filepath.Base(dir) || rec.PID <= 0 || rec.ADBPort <= 0 {
		return nil, errors.New("record does not match its directory")
	}
	if !ownsProcess(rec.PID, dir) {
		return nil, fmt.Errorf("qemu pid %d is gone", rec.PID)
	}
	v := &vm{rec: rec, dir: dir, log: log, exited: make(chan struct{})}
	go watchPID(v, rec.PID)
	if _, err := v.status(ctx); err != nil {
		v.kill()
		return nil, fmt.Errorf("qmp of running qemu pid %d: %w", rec.PID, err)
	}
	v.adb = adb.NewRedialer(v.adbAddr(), opts)
	return v, nil
}

// ownsProcess reports whether pid is alive and is the QEMU of dir (its
// command line names dir), so a recycled pid is never mistaken for it.
func ownsProcess(pid int, dir string) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "cmdline"))
	if err != nil {
		return false
	}
	return strings.Contains(string(cmdline), dir+string(filepath.Separator))
}

// watchPID closes v.exited when pid (not our child) is gone.
func watchPID(v *vm, pid int) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if !ownsProcess(pid, v.dir) {
			close(v.exited)
			return
		}
	}
}
