package distill

import (
	"errors"

	"github.com/openautoglm/cloudphone/examples/tasks"
	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
	"github.com/openautoglm/cloudphone/wasm-modules/planner-intent/intent"
)

// Data is the labeled training and test sets.
type Data struct {
	Train []Labeled
	// Heldout has training templates filled with held-out slot values;
	// Unseen has held-out templates with held-out values.
	Heldout, Unseen, Suite []Labeled
}

// Default data sizes: examples per template and two-part examples per
// language.
const (
	PerTemplate = 48
	MultiCount  = 2000
)

// Build generates and labels the data. The task suite is a test set only.
func Build(seed uint64, perTemplate, multiCount int) (Data, error) {
	var d Data
	for _, e := range Generate(seed, perTemplate, multiCount) {
		l := Label(e.Text, e.Template)
		switch {
		case e.Heldout:
			d.Unseen = append(d.Unseen, l)
		case e.ValuesHeldout:
			d.Heldout = append(d.Heldout, l)
		default:
			d.Train = append(d.Train, l)
		}
	}
	ts, err := tasks.Load()
	if err != nil {
		return d, err
	}
	for _, t := range ts {
		d.Suite = append(d.Suite, Label(t.Instruction, "suite/"+t.ID))
	}
	return d, nil
}

// Lexicon fills the model's app and setting tables from the teacher's.
func Lexicon(m *intentnet.Model) {
	m.Apps = nil
	for _, a := range intent.Apps {
		for _, n := range append([]string{a.Name}, a.Aliases...) {
			m.Apps = append(m.Apps, intentnet.App{Alias: n, Package: a.Package, Name: a.Name})
		}
	}
	m.Settings = nil
	for _, s := range Settings {
		m.Settings = append(m.Settings, intentnet.Setting{Surface: s[0], Key: s[1]})
	}
}

// Quantized returns the INT8 form of a float model.
func Quantized(m *intentnet.Model) (*intentnet.Model, error) {
	ni, ok1 := m.Intent.(*intentnet.Net)
	nt, ok2 := m.Tagger.(*intentnet.Net)
	if !ok1 || !ok2 {
		return nil, errors.New("distill: quantize: not a float model")
	}
	q := *m
	q.Intent, q.Tagger = intentnet.Quantize(ni), intentnet.Quantize(nt)
	return &q, nil
}
