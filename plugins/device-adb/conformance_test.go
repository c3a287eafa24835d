package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestConformance builds the plugin and runs the cloudphone conformance
// suite against it, configured with a simulated phone's address.
func TestConformance(t *testing.T) {
	f := startFleet(t, 1)
	plugintest.Device(t, pluginbuild.GoBinary(t, ".", ""), plugintest.WithConfig(directConfig(t, f.Devices()[0].Serial)))
}

// TestPluginProcess loads the built plugin as the host does, with no adb
// server reachable and one direct phone: the plugin loads, reports the
// server in backend_status, drives the phone, and refuses Provision as
// unsupported.
func TestPluginProcess(t *testing.T) {
	f := startFleet(t, 1)
	d := f.Devices()[0]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := procrt.Load(ctx, pluginbuild.GoBinary(t, ".", ""), procrt.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	cfg := `{"adb_server": "127.0.0.1:` + itoa(freePort(t)) + `", "adb_key": "` + t.TempDir() + `/k", "addresses": ["` + d.Serial + `"]}`
	if err := p.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		list, err := p.List(ctx, &cpv1.ListRequest{})
		if err != nil {
			return err
		}
		if len(list.GetDevices()) != 1 || list.GetBackendStatus() == "" {
			return errorf("List: %v", list)
		}
		return nil
	})
	if _, err := p.Act(ctx, &cpv1.ActRequest{DeviceId: d.Serial, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.tencent.mm"}}); err != nil {
		t.Fatal(err)
	}
	obs, err := p.Observe(ctx, &cpv1.ObserveRequest{DeviceId: d.Serial})
	if err != nil || obs.GetCurrentApp() != "com.tencent.mm" || obs.GetCurrentAppName() != "微信" {
		t.Fatalf("Observe after launch: %q %q, %v", obs.GetCurrentApp(), obs.GetCurrentAppName(), err)
	}
	if _, err := p.Provision(ctx, &cpv1.ProvisionRequest{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Provision: %v, want ErrUnsupported", err)
	}
	if err := p.Configure(ctx, []byte(`{"bogus": true}`)); err == nil {
		t.Error("Configure accepted an unknown key")
	}
}
