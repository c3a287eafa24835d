package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// TestNodePoolFollowsConfig starts a node with device-sim and checks that
// the pool lends its phones, then that a config edit applies live: new
// labels on the phones, and a backend disabled leaves the pool, its lease
// lost with the reason.
func TestNodePoolFollowsConfig(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	bin, err := os.ReadFile(pluginbuild.GoBinary(t, "../../plugins/device-sim", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "device-sim"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "cloudphone.yaml")
	write := func(devices string) {
		body := fmt.Sprintf("plugins:\n  dir: %q\n  config:\n    device-sim: {count: 2, listen: \"127.0.0.1:0\"}\ndata:\n  dir: %q\ndevices:\n%s", dir, data, devices)
		tmp := cfgPath + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	write("  backends:\n    device-sim: {enabled: true}\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n, err := New(ctx, Options{ConfigFile: cfgPath, Env: []string{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	if err := n.Start(ctx, false); err != nil {
		t.Fatal(err)
	}
	if got := len(n.Pool.Devices()); got != 2 {
		t.Fatalf("%d devices after start, want 2", got)
	}
	l, err := n.Pool.Lease(ctx, pool.Request{Owner: "task-1"})
	if err != nil {
		t.Fatal(err)
	}

	write("  backends:\n    device-sim: {enabled: true, labels: {region: cn-north}}\n")
	poll(t, func() error {
		for _, d := range n.Pool.Devices() {
			if d.Labels["region"] != "cn-north" {
				return fmt.Errorf("%s labels %v", d.ID, d.Labels)
			}
		}
		return nil
	})

	write("  backends:\n    device-sim: {enabled: false}\n")
	select {
	case err := <-l.Lost():
		if !errors.Is(err, pool.ErrLost) {
			t.Fatalf("lost: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("lease not lost after the backend was disabled")
	}
	if devs, bks := n.Pool.Devices(), n.Pool.Backends(); len(devs) != 0 || len(bks) != 0 {
		t.Fatalf("devices %v backends %v", devs, bks)
	}
}

func poll(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
