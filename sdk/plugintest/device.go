package plugintest

import (
	"context"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Device runs the conformance suite against the device backend plugin at
// path. When the backend lists at least one device, the suite observes it,
// acts on it and runs `echo` in its shell.
func Device(t *testing.T, path string, opts ...Option) {
	t.Helper()
	o := collect(opts)
	inst := load(t, path, o)
	d, ok := inst.(pluginhost.Device)
	if !ok {
		t.Fatalf("%s does not implement the device contract", path)
	}
	ctx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 30*time.Second)
	}
	t.Run("describe", func(t *testing.T) { checkDescribe(t, inst, cpv1.PluginKind_PLUGIN_KIND_DEVICE, o) })
	c, cancel := ctx()
	defer cancel()
	list, err := d.List(c, &cpv1.ListRequest{})
	if err != nil {
		t.Fatalf("List: %v (an unreachable engine belongs in backend_status, not an error)", err)
	}
	if _, err := d.Health(c, &cpv1.HealthRequest{}); err != nil {
		t.Errorf("Health(backend): %v", err)
	}
	t.Run("unknown device", func(t *testing.T) {
		c, cancel := ctx()
		defer cancel()
		if _, err := d.Observe(c, &cpv1.ObserveRequest{DeviceId: "no-such-device-plugintest"}); err == nil {
			t.Error("Observe of an unknown device succeeded")
		}
		if _, err := d.Act(c, &cpv1.ActRequest{DeviceId: "no-such-device-plugintest", Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_WAIT}}); err == nil {
			t.Error("Act on an unknown device succeeded")
		}
	})
	if len(list.GetDevices()) == 0 {
		t.Logf("backend lists no devices (%s); device checks skipped", list.GetBackendStatus())
		return
	}
	id := list.GetDevices()[0].GetId()
	t.Run("observe", func(t *testing.T) {
		c, cancel := ctx()
		defer cancel()
		obs, err := d.Observe(c, &cpv1.ObserveRequest{DeviceId: id})
		if err != nil {
			t.Fatalf("Observe(%s): %v", id, err)
		}
		if obs.GetScreen().GetWidth() <= 0 || obs.GetScreen().GetHeight() <= 0 {
			t.Errorf("Observe(%s): no screen size", id)
		}
		if len(obs.GetScreenshotPng()) < 8 || string(obs.GetScreenshotPng()[1:4]) != "PNG" {
			t.Errorf("Observe(%s): screenshot is not a PNG", id)
		}
	})
	t.Run("bad action", func(t *testing.T) {
		c, cancel := ctx()
		defer cancel()
		if _, err := d.Act(c, &cpv1.ActRequest{DeviceId: id}); err == nil {
			t.Error("Act with no action succeeded")
		}
		if _, err := d.Act(c, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{}}); err == nil {
			t.Error("Act with an unspecified action type succeeded")
		}
	})
	t.Run("shell", func(t *testing.T) {
		c, cancel := ctx()
		defer cancel()
		r, err := d.Shell(c, &cpv1.ShellRequest{DeviceId: id, Command: "echo plugintest"})
		if err != nil || r.GetExitCode() != 0 {
			t.Fatalf("Shell(echo): %v, exit %d", err, r.GetExitCode())
		}
	})
	t.Run("deadline", func(t *testing.T) {
		checkDeadline(t, func(ctx context.Context) error {
			_, err := d.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
			return err
		})
	})
	t.Run("concurrent", func(t *testing.T) {
		concurrently(t, o, func() error {
			c, cancel := ctx()
			defer cancel()
			_, err := d.Observe(c, &cpv1.ObserveRequest{DeviceId: id, SkipScreenshot: true})
			return err
		})
	})
}
