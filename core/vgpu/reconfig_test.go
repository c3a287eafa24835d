package vgpu

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
)

func TestSetConfig(t *testing.T) {
	sim := &simGPU{mem: map[string]int64{"a": 3000, "b": 1000}, cost: map[string]time.Duration{}}
	base := vgpuConfig(
		config.SliceConfig{Name: "big", MemoryMiB: 8000, ComputePercent: 60, Models: []string{"a"}},
		config.SliceConfig{Name: "any", MemoryMiB: 2000, ComputePercent: 40},
	)
	g := newGateway(t, Options{Adapters: sim, Config: base})
	ctx := context.Background()
	for _, m := range []string{"a", "b"} {
		if err := g.Load(ctx, m, ""); err != nil {
			t.Fatal(err)
		}
	}
	with := func(edit func(c *config.VGPUConfig)) config.VGPUConfig {
		c := base
		c.Slices = append([]config.SliceConfig(nil), base.Slices...)
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  config.VGPUConfig
		want string // error substring; "" applies
	}{
		{"shrink below loaded", with(func(c *config.VGPUConfig) { c.Slices[0].MemoryMiB = 2048 }),
			"slice big: memory_mib 2048 is below the 3000 MiB its loaded models take (a 3000); unload some first"},
		{"move a loaded model", with(func(c *config.VGPUConfig) { c.Slices[0].Models = []string{"c"} }),
			"model a is loaded on slice big but would be served by slice any; unload it first"},
		{"remove a slice with models", with(func(c *config.VGPUConfig) { c.Slices = c.Slices[:1] }),
			"slice any is removed but model b is loaded on it; unload it first"},
		{"shares over 100", with(func(c *config.VGPUConfig) { c.Slices[0].ComputePercent = 90 }),
			"adds up to 130"},
		{"grow and reshare", with(func(c *config.VGPUConfig) {
			c.Slices[0].MemoryMiB, c.Slices[0].ComputePercent = 3000, 20
			c.Slices[1].ComputePercent = 30
			c.Slices = append(c.Slices, config.SliceConfig{Name: "new", MemoryMiB: 10, ComputePercent: 50, Models: []string{"n"}})
		}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := g.SetConfig(tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	sts := g.Slices()
	if len(sts) != 3 || sts[0].MemoryMiB != 3000 || sts[0].ComputePercent != 20 || sts[0].MemoryUsedMiB != 3000 ||
		sts[2].Name != "new" || sts[1].Loaded[0].Name != "b" {
		t.Fatalf("after reconfiguring: %+v", sts)
	}
	// The new slice serves: its model loads there and answers.
	sim.mem["n"] = 5
	if text, _, err := collect(ctx, g, "n", request("on the new slice", 0)); err != nil || text != "on the new slice" {
		t.Fatalf("new slice: %q %v", text, err)
	}
	if st := status(g, "new"); st.Completed != 1 || st.MemoryUsedMiB != 5 {
		t.Fatalf("new slice: %+v", st)
	}
	// Unloading frees the slice for removal.
	if err := g.Unload(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	if err := g.SetConfig(with(func(c *config.VGPUConfig) { c.Slices[0].MemoryMiB = 3000 })); err != nil {
		t.Fatal(err)
	}
	if len(g.Slices()) != 2 {
		t.Fatalf("slices %+v", g.Slices())
	}
}
