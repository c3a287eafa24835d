package devstream

import "testing"

func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{`{"type":"ack","seq":1}`, `{"type":"ack","upto":7}`, `{"type":"nack","seq":3}`, `{"type":"x"}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseClientMessage(b)
		if err != nil {
			return
		}
		switch m.Type {
		case TypeAck:
			if m.Seq == 0 && m.Upto == 0 {
				t.Errorf("accepted an ack with nothing to ack: %s", b)
			}
		case TypeNack:
			if m.Seq == 0 {
				t.Errorf("accepted a nack with no seq: %s", b)
			}
		default:
			t.Errorf("accepted type %q", m.Type)
		}
	})
}
