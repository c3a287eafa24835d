package sim

import (
	"context"
	"errors"
	"testing"

	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/sched"
)

func TestDevices(t *testing.T) {
	d := NewDevices(3, func(i int) map[string]string {
		if i == 2 {
			return map[string]string{"android": "14", "tenant": "vip"}
		}
		return map[string]string{"android": "13"}
	})
	ctx := context.Background()
	var first sched.Lease
	for _, tc := range []struct {
		name string
		req  pool.Request
		dev  int
		err  error
	}{
		{"first free", pool.Request{Owner: "a", Tenant: "t"}, 0, nil},
		{"by id", pool.Request{Owner: "b", Tenant: "t", DeviceID: "sim/1"}, 1, nil},
		{"by id, busy", pool.Request{Owner: "c", Tenant: "t", DeviceID: "sim/1"}, 0, pool.ErrBusy},
		{"tenant-only phone", pool.Request{Owner: "d", Tenant: "t", Labels: map[string]string{"android": "14"}}, 0, pool.ErrNoDevice},
		{"its tenant", pool.Request{Owner: "e", Tenant: "vip", Labels: map[string]string{"android": "14"}}, 2, nil},
		{"all busy", pool.Request{Owner: "f", Tenant: "t"}, 0, pool.ErrBusy},
	} {
		l, err := d.TryLease(ctx, tc.req)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Fatalf("%s: got %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || l.(*DevLease).Index != tc.dev {
			t.Fatalf("%s: got %v %v, want device %d", tc.name, l, err, tc.dev)
		}
		if tc.dev == 0 {
			first = l
		}
	}
	if d.Capacity() != 3 || d.Free() != 0 {
		t.Fatalf("capacity %d free %d", d.Capacity(), d.Free())
	}
	first.Release()
	first.Release() // a second release does nothing
	if d.Free() != 1 {
		t.Fatalf("free %d after releasing one of three", d.Free())
	}
	select {
	case <-d.Changes():
	default:
		t.Fatal("no change signalled on release")
	}
	if l, err := d.TryLease(ctx, pool.Request{Owner: "g", Tenant: "t"}); err != nil || l.(*DevLease).Index != 0 {
		t.Fatalf("re-lease: %v %v", l, err)
	}
}
