package ring

import (
	"testing"
)

// FuzzDescriptor feeds raw 64-byte slots to the validators a consumer and
// an owner run on everything they read: they must never panic, accept
// only descriptors inside the ring's geometry, and an accepted descriptor
// must survive a put/get round trip.
func FuzzDescriptor(f *testing.F) {
	g := newGeometry(8, 8*2*128)
	good := desc{kind: kindCommand, flags: uint32(FlagBatchable), id: 42, slice: 1, model: 2, deadline: 1e18,
		tag: 3, off: g.reqOff(3), length: 100}
	slot := make([]byte, descSize)
	good.put(slot)
	f.Add(append([]byte(nil), slot...))
	done := desc{kind: kindCompletion, id: 42, tag: 3, status: uint32(StatusOK), off: g.resOff(3), length: 128}
	done.put(slot)
	f.Add(append([]byte(nil), slot...))
	f.Add(make([]byte, descSize))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < descSize {
			raw = append(raw, make([]byte, descSize-len(raw))...)
		}
		raw = raw[:descSize]
		d, err := get(raw)
		if err != nil {
			return
		}
		for _, check := range []func(*desc) error{g.validCommand, g.validCompletion} {
			if check(&d) != nil {
				continue
			}
			if d.tag >= g.entries || uint64(d.off)+uint64(d.length) > g.arenaBytes || d.length > g.chunk {
				t.Fatalf("accepted a descriptor outside the ring: %+v", d)
			}
			again := make([]byte, descSize)
			d.put(again)
			d2, err := get(again)
			if err != nil || d2 != d {
				t.Fatalf("round trip: %+v → %+v, %v", d, d2, err)
			}
		}
	})
}
