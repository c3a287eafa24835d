package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// testConfig keeps test phones on system-picked ports.
const testConfig = `{"count": 2, "listen": "127.0.0.1:0"}`

// TestConformance builds the plugin and runs the cloudphone conformance
// suite against it, exactly as the host will load it.
func TestConformance(t *testing.T) {
	plugintest.Device(t, pluginbuild.GoBinary(t, ".", ""), plugintest.WithConfig(testConfig))
}

// TestPluginProcess loads the built plugin the way the host does and
// drives a phone through the contract: list, launch, observe, provision,
// release, reconfigure.
func TestPluginProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := procrt.Load(ctx, pluginbuild.GoBinary(t, ".", ""), procrt.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := p.Configure(ctx, []byte(testConfig)); err != nil {
		t.Fatal(err)
	}
	list, err := p.List(ctx, &cpv1.ListRequest{})
	if err != nil || len(list.GetDevices()) != 2 {
		t.Fatalf("List: %v, %v", list, err)
	}
	id := list.GetDevices()[0].GetId()
	if _, err := p.Act(ctx, &cpv1.ActRequest{DeviceId: id, Action: &cpv1.Action{Type: cpv1.ActionType_ACTION_TYPE_LAUNCH, Package: "com.tencent.mm"}}); err != nil {
		t.Fatal(err)
	}
	obs, err := p.Observe(ctx, &cpv1.ObserveRequest{DeviceId: id})
	if err != nil || obs.GetCurrentApp() != "com.tencent.mm" || obs.GetCurrentAppName() != "微信" {
		t.Fatalf("Observe after launch: app %q %q, %v", obs.GetCurrentApp(), obs.GetCurrentAppName(), err)
	}
	dev, err := p.Provision(ctx, &cpv1.ProvisionRequest{Labels: map[string]string{"pool": "extra"}})
	if err != nil || dev.GetLabels()["pool"] != "extra" || !dev.GetProvisioned() {
		t.Fatalf("Provision: %v, %v", dev, err)
	}
	if _, err := p.Release(ctx, &cpv1.ReleaseRequest{DeviceId: dev.GetId()}); err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(ctx, []byte(`{"count": 3, "listen": "127.0.0.1:0"}`)); err != nil {
		t.Fatal(err)
	}
	if list, err := p.List(ctx, &cpv1.ListRequest{}); err != nil || len(list.GetDevices()) != 3 {
		t.Fatalf("List after count 3: %d devices, %v", len(list.GetDevices()), err)
	}
	if err := p.Configure(ctx, []byte(`{"count": 1, "bogus": true}`)); err == nil {
		t.Error("Configure accepted an unknown key")
	}
}
