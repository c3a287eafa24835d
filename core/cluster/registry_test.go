package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestRegistry: devices appear with their node, a device the node drops
// leaves at the next heartbeat, a node that leaves cleanly takes its
// devices with it at once, and status counts the nodes.
func TestRegistry(t *testing.T) {
	ttl := 900 * time.Millisecond
	a := openNode(t, Options{NodeID: "a", DataDir: t.TempDir(), Listen: "127.0.0.1:0", DeviceTTL: ttl,
		Devices: newFleet("a", 2, map[string]string{"os": "android-14"}).Devices})
	fb := newFleet("b", 3, nil)
	fb.devs[0].ID = "adb/192.168.1.5:5555" // an id that is no valid subject token
	b := openNode(t, Options{NodeID: "b", NATSURL: a.Server().ClientURL(), DeviceTTL: ttl, Devices: fb.Devices})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	devs, err := a.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, d.Node+" "+d.ID+" "+d.State)
	}
	want := []string{"a sim/a-0 free", "a sim/a-1 free", "b adb/192.168.1.5:5555 free", "b sim/b-1 free", "b sim/b-2 free"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("devices\n got %v\nwant %v", got, want)
	}
	if devs[0].Labels["os"] != "android-14" || devs[0].Updated.IsZero() {
		t.Fatalf("device record %+v", devs[0])
	}
	raw, _ := json.Marshal(devs[2])
	var back map[string]any
	_ = json.Unmarshal(raw, &back)
	if back["node"] != "b" || back["id"] != "adb/192.168.1.5:5555" || back["backend"] != "sim" {
		t.Fatalf("device JSON %s", raw)
	}

	// Device events: each device was added; a state change and a
	// removal are published at the next heartbeat.
	evs, err := a.Events(ctx, KindDevice, "sim/b-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer evs.Close()
	fb.mu.Lock()
	fb.devs[1].State = "leased"
	fb.mu.Unlock()
	for _, want := range []string{"added", "state"} {
		ev, err := evs.Next(ctx)
		if err != nil || ev.Type != want || ev.Node != "b" {
			t.Fatalf("device event %+v, %v; want %s from b", ev, err, want)
		}
	}
	fb.remove("sim/b-1")
	if ev, err := evs.Next(ctx); err != nil || ev.Type != "removed" {
		t.Fatalf("device event %+v, %v; want removed", ev, err)
	}
	waitFor(t, 3*ttl, func() error {
		devs, err := a.Devices(ctx)
		if err != nil {
			return err
		}
		keys, err := a.registryKeys(ctx)
		if err != nil {
			return err
		}
		if len(devs) != 4 || len(keys) != 4 {
			return fmt.Errorf("%d devices listed, %d keys, want 4", len(devs), len(keys))
		}
		return nil
	})

	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 2 || st.Nodes[0].ID != "a" || st.Nodes[0].Devices != 2 || st.Nodes[0].State != NodeIdle ||
		st.Leader != "a" || st.Replicas != 1 {
		t.Fatalf("status %+v", st)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean leave removes the records at once, not after the TTL.
	keys, err := a.registryKeys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("after b left: keys %v, %v", keys, err)
	}
	nodes, err := a.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "a" || nodes[0].Embedded != "a" {
		t.Fatalf("after b left: nodes %+v, %v", nodes, err)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no data dir", Options{NodeID: "x"}},
		{"ack wait", Options{NodeID: "x", DataDir: "d", AckWait: time.Millisecond}},
		{"ttl", Options{NodeID: "x", DataDir: "d", DeviceTTL: time.Millisecond}},
		{"replicas", Options{NodeID: "x", DataDir: "d", Replicas: 7}},
		{"concurrency", Options{NodeID: "x", DataDir: "d", Concurrency: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := Open(context.Background(), tc.o); err == nil {
				n.Close()
				t.Fatal("accepted")
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := Open(ctx, Options{NodeID: "x", NATSURL: "nats://127.0.0.1:1"}); err == nil {
		t.Fatal("connected to a closed port")
	}
}
