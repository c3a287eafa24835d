package intent

import "testing"

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []State{
		{},
		{Instr: 0xdeadbeef, Goal: 3, Steps: 7, Phase: 2, Launches: 1, Taps: 3, Types: 2, Scrolls: 1, Backs: 4, Sig: 0xffffffff, Base: -40, Done: 3},
		{Base: 40},
	} {
		got, err := UnmarshalState(s.Marshal())
		if err != nil || got != s {
			t.Errorf("round trip of %+v = %+v, %v", s, got, err)
		}
	}
	if n := len((&State{Instr: 1 << 31, Goal: 2, Steps: 5, Sig: 1 << 31}).Marshal()); n > 32 {
		t.Errorf("state is %d bytes", n)
	}
}

func TestStateGarbage(t *testing.T) {
	for name, b := range map[string][]byte{
		"garbage":       {0xde, 0xad, 0xbe, 0xef},
		"no version":    {0x10, 0x01},
		"wrong version": {0x08, 0x02},
		"bytes field":   {0x08, 0x01, 0x12, 0x01, 0x00},
		"huge goal":     {0x08, 0x01, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"cut varint":    {0x08, 0x01, 0x18, 0xff},
	} {
		if _, err := UnmarshalState(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
