package main

import (
	"context"
	"maps"
	"time"

	"github.com/openautoglm/cloudphone/sdk/android"
)

// bootSnapshot is the snapshot saved right after boot when spares are
// kept; Release restores it to reset a VM for its next user.
const bootSnapshot = "cloudphone-boot"

// park keeps a released VM as a spare when the spares setting allows:
// the VM is reset to its boot snapshot (about a second, no reboot) and
// hidden until a Provision takes it. It reports whether v was parked.
func (b *backend) park(ctx context.Context, v *vm, set settings) bool {
	if set.spares == 0 || !v.alive() {
		return false
	}
	b.mu.Lock()
	n := 0
	for _, o := range b.vms {
		if o.rec.Spare {
			n++
		}
	}
	if n >= set.spares {
		b.mu.Unlock()
		return false
	}
	v.rec.Spare = true // hidden from now on: nobody acts on a VM being reset
	v.rec.Labels = nil
	b.mu.Unlock()
	if err := v.loadSnapshot(ctx, bootSnapshot); err != nil {
		b.log.Info("device-kvm: release: cannot reset the vm; stopping it", "vm", v.rec.ID, "err", err)
		b.mu.Lock()
		v.rec.Spare = false
		b.mu.Unlock()
		return false
	}
	b.mu.Lock()
	err := v.save()
	b.mu.Unlock()
	if err != nil {
		b.log.Warn("device-kvm: update vm record", "vm", v.rec.ID, "err", err)
	}
	b.log.Info("device-kvm: released; reset to the boot snapshot and kept as a spare", "vm", v.rec.ID)
	return true
}

// takeSpare hands a spare with the requested memory and cpus to a
// Provision, after checking that it answers adb; a spare that does not
// is stopped. nil when there is none.
func (b *backend) takeSpare(ctx context.Context, sp spec, labels map[string]string) *vm {
	for {
		b.mu.Lock()
		var v *vm
		for _, o := range b.vms {
			if o.rec.Spare && o.rec.MemoryMiB == sp.memoryMiB && o.rec.CPUs == sp.cpus {
				v = o
				break
			}
		}
		if v == nil {
			b.mu.Unlock()
			return nil
		}
		delete(b.vms, v.rec.ID) // nobody else takes it
		b.mu.Unlock()
		try, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := android.WaitBoot(try, v.adb)
		cancel()
		if err != nil {
			b.log.Warn("device-kvm: a spare vm does not answer; stopping it", "vm", v.rec.ID, "err", err)
			if err := v.stop(context.WithoutCancel(ctx), shutdownQuit, time.Second); err != nil {
				b.log.Warn("device-kvm: stop a spare vm", "vm", v.rec.ID, "err", err)
			}
			continue
		}
		b.mu.Lock()
		v.rec.Spare = false
		v.rec.Labels = maps.Clone(labels)
		err = v.save()
		b.vms[v.rec.ID] = v
		b.mu.Unlock()
		if err != nil {
			b.log.Warn("device-kvm: update vm record", "vm", v.rec.ID, "err", err)
		}
		b.log.Info("device-kvm: provisioned from a spare", "vm", v.rec.ID, "adb", v.adbAddr())
		return v
	}
}

// trimSpares stops the spares beyond the spares setting.
func (b *backend) trimSpares(ctx context.Context, set settings) {
	b.mu.Lock()
	var extra []*vm
	n := 0
	for _, v := range b.vms {
		if !v.rec.Spare {
			continue
		}
		if n++; n > set.spares {
			extra = append(extra, v)
			delete(b.vms, v.rec.ID)
		}
	}
	b.mu.Unlock()
	for _, v := range extra {
		if err := v.stop(ctx, shutdownQuit, set.stopTimeout); err != nil {
			b.log.Warn("device-kvm: stop a spare vm", "vm", v.rec.ID, "err", err)
		}
	}
}
