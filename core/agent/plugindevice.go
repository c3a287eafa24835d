package agent

import (
	"context"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Backends reaches device backend plugins by name (pluginhost.Host).
type Backends interface {
	WithDevice(name string, fn func(pluginhost.Device) error) error
}

// PluginDevice is a Device served by a device backend plugin. Each call
// leases the backend's serving version, so a backend swapped mid-task serves
// the task from its next call on.
type PluginDevice struct {
	Backends Backends
	Backend  string
	ID       string
}

// Observe implements Device.
func (d PluginDevice) Observe(ctx context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	req.DeviceId = d.ID
	var obs *cpv1.Observation
	err := d.Backends.WithDevice(d.Backend, func(b pluginhost.Device) (err error) {
		obs, err = b.Observe(ctx, req)
		return err
	})
	return obs, err
}

// Act implements Device.
func (d PluginDevice) Act(ctx context.Context, a *cpv1.Action) (*cpv1.ActResponse, error) {
	var resp *cpv1.ActResponse
	err := d.Backends.WithDevice(d.Backend, func(b pluginhost.Device) (err error) {
		resp, err = b.Act(ctx, &cpv1.ActRequest{DeviceId: d.ID, Action: a})
		return err
	})
	return resp, err
}

var _ Device = PluginDevice{}
