package pool

import (
	"context"
	"testing"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestChangesSignalsFreedDevices: a reader that drains Changes and then
// leases with NoWait learns of every device that becomes leasable.
func TestChangesSignalsFreedDevices(t *testing.T) {
	bs := fakeBackends{"fake": newFakeBackend(1, nil)}
	clk := newFakeClock()
	p := newTestPool(t, testConfig("fake"), bs, clk)
	drain := func() bool {
		select {
		case <-p.Changes():
			return true
		default:
			return false
		}
	}
	if !drain() {
		t.Fatal("no signal after the first sync listed a device")
	}
	l, err := p.Lease(context.Background(), Request{Owner: "t1", NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	if drain() {
		t.Fatal("signalled by a lease granted at once: nothing became free")
	}
	if _, err := p.Lease(context.Background(), Request{Owner: "t2", NoWait: true}); err == nil {
		t.Fatal("second lease of the only device succeeded")
	}
	drain() // a refused NoWait lease may signal; readers only rescan

	l.Release()
	if !drain() {
		t.Fatal("no signal after a release")
	}
	if drain() {
		t.Fatal("more than one pending signal")
	}

	// Expiry frees the device too.
	l2, err := p.Lease(context.Background(), Request{Owner: "t3", NoWait: true, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	drain()
	clk.Advance(2 * time.Second)
	p.sweep()
	if !drain() {
		t.Fatal("no signal after an expiry")
	}
	if l2.Err() == nil {
		t.Fatal("lease did not expire")
	}

	// A new device listed by the backend.
	bs["fake"].mu.Lock()
	bs["fake"].devs["p0001"] = &cpv1.DeviceInfo{Id: "p0001", State: cpv1.DeviceState_DEVICE_STATE_READY}
	bs["fake"].mu.Unlock()
	p.Sync(context.Background())
	if !drain() {
		t.Fatal("no signal after a sync")
	}
	if _, err := p.Lease(context.Background(), Request{Owner: "t4", DeviceID: "fake/p0001", NoWait: true}); err != nil {
		t.Fatalf("the new device: %v", err)
	}
}
