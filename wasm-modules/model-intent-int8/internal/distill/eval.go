package distill

import (
	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// Score is a model's agreement with the teacher on a set of examples.
type Score struct {
	N, IntentOK   int
	SlotN, SlotOK int // examples with located slots, and exact matches
}

// IntentAcc is the intent accuracy.
func (s Score) IntentAcc() float64 { return ratio(s.IntentOK, s.N) }

// SlotEM is the slot exact-match rate: the set of (type, value) equals
// the teacher's.
func (s Score) SlotEM() float64 { return ratio(s.SlotOK, s.SlotN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate scores m against the teacher's labels.
func Evaluate(m *intentnet.Model, data []Labeled) Score {
	var s Score
	for _, d := range data {
		s.N++
		p := m.Predict(d.Text)
		if p.Intent == intentnet.Intents[d.Intent] {
			s.IntentOK++
		}
		if d.SlotOK {
			s.SlotN++
			if SlotSet(p.Slots) == SlotSet(d.Slots) {
				s.SlotOK++
			}
		}
	}
	return s
}
