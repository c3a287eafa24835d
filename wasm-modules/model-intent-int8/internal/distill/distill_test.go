package distill

import (
	"bytes"
	"crypto/sha256"
	"math"
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// smoke is a fast, small training run.
func smoke(t *testing.T) (Data, *intentnet.Model, Config) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.BucketsS, cfg.BucketsT, cfg.EpochsS, cfg.EpochsT = 1<<10, 1<<10, 3, 2
	d, err := Build(cfg.Seed, 3, 60)
	if err != nil {
		t.Fatal(err)
	}
	m := Train(cfg, d.Train)
	Lexicon(m)
	return d, m, cfg
}

// TestTrainReproducible: the same seed gives the same weights, bit for bit.
func TestTrainReproducible(t *testing.T) {
	_, a, _ := smoke(t)
	_, b, _ := smoke(t)
	ea, err := intentnet.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := intentnet.Encode(b)
	if sha256.Sum256(ea) != sha256.Sum256(eb) {
		t.Fatal("two trainings with the same seed differ")
	}
}

// TestQuantizationError: every INT8 weight is within half a scale step
// of the float weight, and INT8 agrees with float on the intent.
func TestQuantizationError(t *testing.T) {
	d, fm, _ := smoke(t)
	qm, err := Quantized(fm)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]intentnet.Forwarder{{fm.Intent, qm.Intent}, {fm.Tagger, qm.Tagger}} {
		f, q := pair[0].(*intentnet.Net), pair[1].(*intentnet.Int8Net)
		dq := intentnet.Dequantize(q)
		for i := range f.E {
			if e := math.Abs(float64(f.E[i] - dq.E[i])); e > float64(q.ES[i%q.Hid])/2*1.0001 {
				t.Fatalf("E[%d]: error %g > scale/2 %g", i, e, q.ES[i%q.Hid]/2)
			}
		}
		for i := range f.W {
			if e := math.Abs(float64(f.W[i] - dq.W[i])); e > float64(q.WS[i/q.Hid])/2*1.0001 {
				t.Fatalf("W[%d]: error %g > scale/2", i, e)
			}
		}
	}
	agree, n := 0, 0
	var maxDiff float64
	for _, x := range append(d.Heldout, d.Train...) {
		pf, pq := fm.Predict(x.Text), qm.Predict(x.Text)
		n++
		if pf.Intent == pq.Intent {
			agree++
			maxDiff = max(maxDiff, math.Abs(float64(pf.Confidence-pq.Confidence)))
		}
	}
	if float64(agree) < 0.98*float64(n) {
		t.Errorf("INT8 and float agree on %d/%d intents, want ≥ 98%%", agree, n)
	}
	if maxDiff > 0.1 {
		t.Errorf("confidence differs by up to %.3f between INT8 and float", maxDiff)
	}
}

// TestRetrainMatchesCommitted retrains the full model and compares it
// with the committed weights.bin (slow: set CLOUDPHONE_MODEL_RETRAIN=1).
func TestRetrainMatchesCommitted(t *testing.T) {
	if os.Getenv("CLOUDPHONE_MODEL_RETRAIN") == "" {
		t.Skip("set CLOUDPHONE_MODEL_RETRAIN=1 to retrain (about 30 s)")
	}
	cfg := DefaultConfig()
	d, err := Build(cfg.Seed, PerTemplate, MultiCount)
	if err != nil {
		t.Fatal(err)
	}
	m := Train(cfg, d.Train)
	Lexicon(m)
	q, err := Quantized(m)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := intentnet.Encode(q)
	want, err := os.ReadFile("../../weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("retrained weights differ from weights.bin (other GOARCH, or training changed: rerun the trainer)")
	}
}

// TestTeacherLabels checks the collapse and the span alignment.
func TestTeacherLabels(t *testing.T) {
	for _, c := range []struct{ in, intent, slots string }{
		{"给张三发消息说明天开会", "send", "contact=张三|text=明天开会"},
		{"用高德地图导航到深圳湾公园", "navigate", "app=高德地图|query=深圳湾公园"},
		{"打开设置然后点击“关于手机”", "multi", "app=设置|element=关于手机"},
		{"turn off Wi-Fi", "toggle", "setting=wi-fi"},
		{"你是谁", "none", ""},
	} {
		l := Label(c.in, "t")
		if got := intentnet.Intents[l.Intent]; got != c.intent || !l.SlotOK || SlotSet(l.Slots) != c.slots {
			t.Errorf("Label(%q) = %s %v %q, want %s %q", c.in, got, l.SlotOK, SlotSet(l.Slots), c.intent, c.slots)
		}
	}
}
