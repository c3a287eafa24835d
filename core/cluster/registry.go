package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/openautoglm/cloudphone/core/pool"
)

// Device is one row of the cluster-wide device registry: a node's
// pool.DeviceStatus with the node it is attached to.
type Device struct {
	pool.DeviceStatus
	Node string `json:"node"`
	// Updated is the node's last heartbeat for this device.
	Updated time.Time `json:"updated"`
}

// NodeInfo is a node's heartbeat record.
type NodeInfo struct {
	ID string `json:"id"`
	// State is serving (Run is pulling tasks) or idle.
	State    string `json:"state"`
	Devices  int    `json:"devices"`
	Running  int    `json:"running"`
	Capacity int    `json:"capacity"`
	// Tenants are the tenants the node serves (empty: all).
	Tenants []string `json:"tenants,omitempty"`
	// Embedded names the node's in-process NATS server, if any.
	Embedded      string    `json:"embedded_server,omitempty"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

// Node states.
const (
	NodeServing = "serving"
	NodeIdle    = "idle"
)

func (n *Node) localDevices() []pool.DeviceStatus {
	if n.opts.Devices == nil {
		return nil
	}
	return n.opts.Devices()
}

func (n *Node) heartbeats(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.DeviceTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			hctx, cancel := context.WithTimeout(ctx, n.opts.DeviceTTL/3)
			n.heartbeat(hctx)
			cancel()
		}
	}
}

// heartbeat re-puts this node's record and each of its devices, and
// deletes the devices it put before that are gone now. A record not
// re-put within the TTL expires with the bucket's MaxAge.
func (n *Node) heartbeat(ctx context.Context) {
	now := time.Now().UTC()
	devs := n.localDevices()
	state := NodeIdle
	if n.capacity.Load() > 0 {
		state = NodeServing
	}
	info := NodeInfo{ID: n.opts.NodeID, State: state, Devices: len(devs), Running: int(n.running.Load()),
		Capacity: int(n.capacity.Load()), Tenants: n.opts.Tenants, LastHeartbeat: now}
	if n.srv != nil {
		info.Embedded = n.srv.Name()
	}
	if err := putJSON(ctx, n.nodes, token(n.opts.NodeID), info); err != nil {
		n.log.Warn("node heartbeat", "err", err)
	}
	keys := make(map[string]bool, len(devs))
	states := make(map[string]string, len(devs))
	for _, d := range devs {
		k := deviceKey(n.opts.NodeID, d.ID)
		keys[k] = true
		states[d.ID] = d.State
		if err := putJSON(ctx, n.devices, k, Device{DeviceStatus: d, Node: n.opts.NodeID, Updated: now}); err != nil {
			n.log.Warn("device heartbeat", "device", d.ID, "err", err)
		}
	}
	n.mu.Lock()
	gone := make([]string, 0)
	for k := range n.put {
		if !keys[k] {
			gone = append(gone, k)
		}
	}
	n.put = keys
	before := n.states
	n.states = states
	n.mu.Unlock()
	n.deviceEvents(ctx, before, states, devs)
	for _, k := range gone {
		if err := n.devices.Delete(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			n.log.Warn("remove device from registry", "key", k, "err", err)
		}
	}
}

// deviceEvents publishes what changed since the last heartbeat on
// cp.events.device.<id>: added, state (a new state) and removed, each with
// the device's record (the id alone for removed).
func (n *Node) deviceEvents(ctx context.Context, before, now map[string]string, devs []pool.DeviceStatus) {
	for _, d := range devs {
		old, ok := before[d.ID]
		switch {
		case !ok:
			n.publishEvent(ctx, Event{Kind: KindDevice, ID: d.ID, Type: "added", Data: mustJSON(d)})
		case old != d.State:
			n.publishEvent(ctx, Event{Kind: KindDevice, ID: d.ID, Type: "state", Data: mustJSON(d)})
		}
	}
	for id := range before {
		if _, ok := now[id]; !ok {
			n.publishEvent(ctx, Event{Kind: KindDevice, ID: id, Type: "removed"})
		}
	}
}

// deregister removes this node's record and devices (a clean leave).
func (n *Node) deregister(ctx context.Context) {
	n.mu.Lock()
	keys := n.put
	n.put = map[string]bool{}
	n.mu.Unlock()
	for k := range keys {
		if err := n.devices.Purge(ctx, k); err != nil {
			n.log.Debug("deregister device", "key", k, "err", err)
		}
	}
	if err := n.nodes.Purge(ctx, token(n.opts.NodeID)); err != nil {
		n.log.Debug("deregister node", "err", err)
	}
}

func putJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if _, err := kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("put %s/%s: %w", kv.Bucket(), key, err)
	}
	return nil
}

// readAllTimeout bounds one read of a whole bucket: a watch caught by a
// server going down may never deliver its end marker.
const readAllTimeout = 15 * time.Second

// readAll reads every live value of a bucket through one watcher.
func readAll(ctx context.Context, kv jetstream.KeyValue, each func(key string, v []byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, readAllTimeout)
	defer cancel()
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("read %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("read %s: %w", kv.Bucket(), ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("read %s: watcher closed", kv.Bucket())
			}
			if e == nil {
				return nil
			}
			if err := each(e.Key(), e.Value()); err != nil {
				return err
			}
		}
	}
}

// Devices lists every device in the cluster (`cloudphone devices`), by
// node then id. Records older than the device TTL are left out even before
// the bucket expires them.
func (n *Node) Devices(ctx context.Context) ([]Device, error) {
	cut := time.Now().Add(-n.opts.DeviceTTL)
	var out []Device
	err := readAll(ctx, n.devices, func(key string, v []byte) error {
		var d Device
		if err := json.Unmarshal(v, &d); err != nil {
			n.log.Warn("bad device record", "key", key, "err", err)
			return nil
		}
		if d.Updated.After(cut) {
			out = append(out, d)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Device) int {
		if c := strings.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// Nodes lists the live nodes, by id.
func (n *Node) Nodes(ctx context.Context) ([]NodeInfo, error) {
	cut := time.Now().Add(-n.opts.DeviceTTL)
	var out []NodeInfo
	err := readAll(ctx, n.nodes, func(key string, v []byte) error {
		var ni NodeInfo
		if err := json.Unmarshal(v, &ni); err != nil {
			n.log.Warn("bad node record", "key", key, "err", err)
			return nil
		}
		if ni.LastHeartbeat.After(cut) {
			out = append(out, ni)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// registryKeys lists the raw keys of the device bucket (what the server
// still holds, expired or not by the client's clock).
func (n *Node) registryKeys(ctx context.Context) ([]string, error) {
	var out []string
	err := readAll(ctx, n.devices, func(key string, _ []byte) error {
		out = append(out, key)
		return nil
	})
	return out, err
}
