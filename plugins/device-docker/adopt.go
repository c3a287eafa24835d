package main

import (
	"context"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// This file keeps the plugin's devices in step with the engine: adoption
// of the containers an earlier run started, and List's sync.

// adopt finds the containers a previous run of this plugin (same
// instance) started: running ones become devices again, the others
// (exited, dead, or created and never started) are removed. It runs
// under adoptMu, before any Provision of this run creates a container.
func (d *docker) adopt(ctx context.Context, eng *engine, set settings) error {
	ctx, cancel := context.WithTimeout(ctx, adoptTimeout)
	defer cancel()
	items, err := eng.managed(ctx, set.instance)
	if err != nil {
		return err
	}
	var found []*device
	for _, c := range items {
		id := c.Labels[labelDevice]
		if id == "" {
			continue
		}
		if c.State != container.StateRunning {
			d.log.Info("device-docker: removing a dead container from an earlier run", "device", id, "state", c.State)
			eng.remove(ctx, c.ID)
			continue
		}
		port, _ := strconv.Atoi(c.Labels[labelADBPort])
		if port == 0 {
			port = set.adbPort
		}
		hp, err := eng.hostPort(ctx, c.ID, port)
		if err != nil {
			d.log.Warn("device-docker: cannot adopt container", "device", id, "err", err)
			continue
		}
		dev := d.newDevice(id, c.ID, hp, c.Labels)
		dev.state = cpv1.DeviceState_DEVICE_STATE_BOOTING
		found = append(found, dev)
	}
	d.mu.Lock()
	if d.eng != eng || d.closed {
		d.mu.Unlock()
		for _, dev := range found {
			_ = dev.adb.Close()
		}
		return nil
	}
	var added []*device
	for _, dev := range found {
		if _, ok := d.devices[dev.id]; ok {
			_ = dev.adb.Close()
			continue
		}
		d.devices[dev.id] = dev
		added = append(added, dev)
		d.log.Info("device-docker: adopted a running container", "device", dev.id, "adb", dev.addr)
	}
	d.adopted = true
	d.mu.Unlock()
	for _, dev := range added {
		go d.settle(dev, set.bootTimeout)
	}
	return nil
}

// settle waits for an adopted (or restarted) device to answer adb and be
// booted, for at most timeout or until the plugin closes.
func (d *docker) settle(dev *device, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(d.life, timeout)
	defer cancel()
	if err := waitBoot(ctx, dev.adb); err != nil {
		d.log.Warn("device-docker: adopted device did not finish booting", "device", dev.id, "err", err)
		dev.setState(cpv1.DeviceState_DEVICE_STATE_UNHEALTHY)
		return
	}
	dev.probeSize(ctx, d.log)
	dev.setState(cpv1.DeviceState_DEVICE_STATE_READY)
}

// sync drops devices whose containers are gone and marks stopped ones
// offline.
func (d *docker) sync(ctx context.Context, eng *engine, set settings) error {
	since := time.Now() // devices added later may be missing from items
	items, err := eng.managed(ctx, set.instance)
	if err != nil {
		return err
	}
	states := map[string]container.ContainerState{}
	for _, c := range items {
		states[c.ID] = c.State
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, dev := range d.devices {
		if dev.added.After(since) {
			continue
		}
		st, ok := states[dev.containerID]
		switch {
		case !ok:
			d.log.Warn("device-docker: container is gone", "device", id)
			_ = dev.adb.Close()
			delete(d.devices, id)
		case st != container.StateRunning:
			dev.setState(cpv1.DeviceState_DEVICE_STATE_OFFLINE)
		case dev.getState() == cpv1.DeviceState_DEVICE_STATE_OFFLINE:
			// Started again (by hand, or a restart policy).
			dev.setState(cpv1.DeviceState_DEVICE_STATE_BOOTING)
			go d.settle(dev, set.bootTimeout)
		}
	}
	return nil
}
