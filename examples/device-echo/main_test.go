package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestShellEchoes(t *testing.T) {
	e := newEcho()
	ctx := context.Background()
	for cmd, want := range map[string]struct {
		out  string
		code int32
	}{
		"echo hi there":            {"hi there\n", 0},
		"getprop ro.product.model": {"getprop ro.product.model\n", 0},
		"true":                     {"", 0},
		"false":                    {"", 1},
	} {
		resp, err := e.Shell(ctx, &cpv1.ShellRequest{DeviceId: "echo-1", Command: cmd})
		if err != nil || string(resp.GetStdout()) != want.out || resp.GetExitCode() != want.code {
			t.Errorf("shell %q = %q exit %d (%v), want %q exit %d", cmd, resp.GetStdout(), resp.GetExitCode(), err, want.out, want.code)
		}
	}
	if _, err := e.Shell(ctx, &cpv1.ShellRequest{DeviceId: "other", Command: "true"}); err == nil {
		t.Error("shell on an unknown device: want error")
	}
}

// TestAsProcessPlugin builds the plugin and drives it through the host's
// process loader, as cloudphone does after it is dropped into plugins.d.
func TestAsProcessPlugin(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "device-echo")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=1.2.3", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := procrt.Load(ctx, bin, procrt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	info := p.Info()
	if info.GetName() != "device-echo" || info.GetVersion() != "1.2.3" || info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_DEVICE {
		t.Fatalf("info = %v", info)
	}
	if err := p.Configure(ctx, []byte(`{"labels":{"region":"lab"}}`)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	list, err := p.List(ctx, &cpv1.ListRequest{})
	if err != nil || len(list.GetDevices()) != 1 || list.GetDevices()[0].GetLabels()["region"] != "lab" {
		t.Fatalf("list = %v, %v", list, err)
	}
	if h, err := p.Health(ctx, &cpv1.HealthRequest{}); err != nil || !h.GetOk() {
		t.Fatalf("health = %v, %v", h, err)
	}
	act, err := p.Act(ctx, &cpv1.ActRequest{DeviceId: "echo-1", Action: &cpv1.Action{
		Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 54, Y: 96},
	}})
	if err != nil || act.GetMessage() != "recorded tap 54,96" {
		t.Fatalf("act = %v, %v", act, err)
	}
	obs, err := p.Observe(ctx, &cpv1.ObserveRequest{DeviceId: "echo-1"})
	if err != nil {
		t.Fatalf("observe: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(obs.GetScreenshotPng()))
	if err != nil || img.Bounds().Dx() != int(obs.GetScreen().GetWidth()) {
		t.Fatalf("screenshot: %v (bounds %v, screen %v)", err, img, obs.GetScreen())
	}
	if !strings.Contains(obs.GetUiXml(), "Last action: tap 54,96") || !strings.HasPrefix(obs.GetUiXml(), "<?xml") {
		t.Fatalf("ui xml = %s", obs.GetUiXml())
	}
	sh, err := p.Shell(ctx, &cpv1.ShellRequest{DeviceId: "echo-1", Command: "false"})
	if err != nil || sh.GetExitCode() != 1 {
		t.Fatalf("shell false = %v, %v", sh, err)
	}
	if _, err := p.Provision(ctx, &cpv1.ProvisionRequest{}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("provision: err = %v, want ErrUnsupported", err)
	}
	if _, err := p.Release(ctx, &cpv1.ReleaseRequest{DeviceId: "echo-1"}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("release: err = %v, want ErrUnsupported", err)
	}
}
