package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openautoglm/cloudphone/plugins/device-kvm/internal/qmp"
)

// hmp runs a human monitor command; HMP reports failures as text, so any
// output from savevm/loadvm/delvm is an error.
func (v *vm) hmp(ctx context.Context, line string) error {
	return v.withQMP(ctx, func(c *qmp.Client) error {
		out, err := c.HumanMonitorCommand(ctx, line)
		if err != nil {
			return err
		}
		if out = strings.TrimSpace(out); out != "" {
			return fmt.Errorf("%s: %s", line, out)
		}
		return nil
	})
}

// validSnapshot reports whether name is safe on an HMP command line.
func validSnapshot(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// saveSnapshot saves the whole VM (RAM, devices, disk) as name in its
// qcow2 disk. The adb connection is closed first so that the snapshot
// holds no half-open host connection.
func (v *vm) saveSnapshot(ctx context.Context, name string) error {
	if !validSnapshot(name) {
		return fmt.Errorf("snapshot name %q: use letters, digits, '-', '_' or '.'", name)
	}
	_ = v.adb.Close()
	if err := v.hmp(ctx, "savevm "+name); err != nil {
		return fmt.Errorf("save snapshot %s: %w", name, err)
	}
	return nil
}

// snapshots lists the VM's snapshots (query-block: the snapshots of its
// disk images), sorted, without duplicates.
func (v *vm) snapshots(ctx context.Context) ([]string, error) {
	var blocks []struct {
		Inserted *struct {
			Image struct {
				Snapshots []struct {
					Name string `json:"name"`
				} `json:"snapshots"`
			} `json:"image"`
		} `json:"inserted"`
	}
	err := v.withQMP(ctx, func(c *qmp.Client) error {
		raw, err := c.Execute(ctx, "query-block", nil)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &blocks)
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var names []string
	for _, b := range blocks {
		if b.Inserted == nil {
			continue
		}
		for _, sn := range b.Inserted.Image.Snapshots {
			names = append(names, sn.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// loadSnapshot restores snapshot name: the guest continues from the
// moment it was saved. The adb connection, which the restored guest no
// longer knows, is dropped; the next call redials.
//
// HMP loadvm stops the VM first and leaves it stopped when the load
// fails, so a missing snapshot is refused before loadvm runs, and a VM
// that a failed load left stopped is continued.
func (v *vm) loadSnapshot(ctx context.Context, name string) error {
	if !validSnapshot(name) {
		return fmt.Errorf("snapshot name %q: use letters, digits, '-', '_' or '.'", name)
	}
	have, err := v.snapshots(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(have, name) {
		return fmt.Errorf("load snapshot %s: no such snapshot (have %v)", name, have)
	}
	_ = v.adb.Close()
	if err := v.hmp(ctx, "loadvm "+name); err != nil {
		if st, serr := v.status(ctx); serr == nil && !st.Running {
			cerr := v.withQMP(ctx, func(c *qmp.Client) error { _, err := c.Execute(ctx, "cont", nil); return err })
			v.log.Warn("device-kvm: loadvm failed and left the vm stopped; continuing it", "vm", v.rec.ID, "status", st.Status, "cont_err", cerr)
		}
		return fmt.Errorf("load snapshot %s: %w", name, err)
	}
	_ = v.adb.Close()
	return nil
}

// SaveSnapshot saves VM id's whole state (RAM, devices, disk) as name.
func (b *backend) SaveSnapshot(ctx context.Context, id, name string) error {
	v, err := b.vm(ctx, id)
	if err != nil {
		return err
	}
	if err := v.saveSnapshot(ctx, name); err != nil {
		return fmt.Errorf("device-kvm: %s: %w", id, err)
	}
	return nil
}

// LoadSnapshot resets VM id to snapshot name (fast reset: no reboot).
func (b *backend) LoadSnapshot(ctx context.Context, id, name string) error {
	v, err := b.vm(ctx, id)
	if err != nil {
		return err
	}
	if err := v.loadSnapshot(ctx, name); err != nil {
		return fmt.Errorf("device-kvm: %s: %w", id, err)
	}
	return nil
}
