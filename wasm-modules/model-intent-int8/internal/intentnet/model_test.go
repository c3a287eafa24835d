package intentnet_test

import (
	"os"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/distill"
	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

func committed(tb testing.TB) *intentnet.Model {
	tb.Helper()
	b, err := os.ReadFile("../../weights.bin")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := intentnet.Decode(b)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestCommittedAccuracy: the committed INT8 weights reach the accuracy
// README.md reports (floors a little under it).
func TestCommittedAccuracy(t *testing.T) {
	m := committed(t)
	d, err := distill.Build(distill.DefaultConfig().Seed, distill.PerTemplate, distill.MultiCount)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name           string
		set            []distill.Labeled
		intent, slotEM float64
	}{{"heldout", d.Heldout, 0.97, 0.88}, {"unseen", d.Unseen, 0.62, 0.42}, {"suite", d.Suite, 0.90, 0.84}} {
		s := distill.Evaluate(m, c.set)
		t.Logf("%s: intent %.2f%% slot-EM %.2f%% (n=%d)", c.name, 100*s.IntentAcc(), 100*s.SlotEM(), s.N)
		if s.IntentAcc() < c.intent || s.SlotEM() < c.slotEM {
			t.Errorf("%s: intent %.3f (floor %.2f), slot-EM %.3f (floor %.2f)", c.name, s.IntentAcc(), c.intent, s.SlotEM(), c.slotEM)
		}
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	b, err := os.ReadFile("../../weights.bin")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, []byte("CPIM"), b[:len(b)/2], append(append([]byte(nil), b[:100]...), b[101:]...)} {
		if _, err := intentnet.Decode(bad); err == nil {
			t.Errorf("Decode of %d damaged bytes: no error", len(bad))
		}
	}
	c := append([]byte(nil), b...)
	c[len(c)/2] ^= 1
	if _, err := intentnet.Decode(c); err == nil {
		t.Error("Decode with a flipped bit: no error")
	}
}

func TestPredictJSON(t *testing.T) {
	m := committed(t)
	p := m.Predict("打开飞行模式")
	if p.Intent != "toggle" || len(p.Goals) != 1 || p.Goals[0].Target != "airplane" || !p.Goals[0].On {
		t.Fatalf("打开飞行模式: %+v", p)
	}
	if j := p.JSON(); !strings.Contains(j, `"goals":[{"kind":"toggle","app":"com.android.settings"`) {
		t.Errorf("JSON = %s", j)
	}
	if p := m.Predict(""); p.Intent != "none" || len(p.Goals) != 0 {
		t.Errorf("empty: %+v", p)
	}
}

// FuzzPredict: any string is featurized and predicted without a panic,
// slots are within the cleaned text, and the JSON is well formed enough.
func FuzzPredict(f *testing.F) {
	m := committed(f)
	for _, s := range []string{"打开微信", "send 李四 a WeChat message saying hi", "", "\xff\xfe", "“", strings.Repeat("然后", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := m.Predict(s)
		rs := intentnet.Clean(s)
		for _, sl := range p.Slots {
			if sl.Start < 0 || sl.End > len(rs) || sl.Start >= sl.End || string(rs[sl.Start:sl.End]) != sl.Value {
				t.Fatalf("slot %+v outside %q", sl, string(rs))
			}
		}
		if j := p.JSON(); !strings.HasPrefix(j, `{"intent":`) || !strings.HasSuffix(j, "]}") {
			t.Fatalf("JSON = %s", j)
		}
	})
}

// BenchmarkPredict is one native call, INT8 and float.
func BenchmarkPredict(b *testing.B) {
	q := committed(b)
	models := []struct {
		name string
		m    *intentnet.Model
	}{{"int8", q}}
	if fb, err := os.ReadFile("../../weights-f32.bin"); err == nil {
		if fm, err := intentnet.Decode(fb); err == nil {
			models = append(models, struct {
				name string
				m    *intentnet.Model
			}{"float", fm})
		}
	}
	for _, mm := range models {
		for _, in := range []struct{ name, s string }{{"short", "打开微信"}, {"long", "打开设置，关闭WLAN，然后给妈妈发消息说我到家了"}} {
			b.Run(mm.name+"/"+in.name, func(b *testing.B) {
				for b.Loop() {
					_ = mm.m.Predict(in.s)
				}
			})
		}
	}
}
