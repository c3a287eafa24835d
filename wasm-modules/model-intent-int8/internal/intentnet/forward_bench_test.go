package intentnet_test

import (
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// BenchmarkForward is one tagger step (one character), INT8 and float.
func BenchmarkForward(b *testing.B) {
	q := committed(b)
	rs := intentnet.Clean("给张三发消息说明天开会")
	feats := intentnet.TokenFeatures(nil, intentnet.StaticTokenFeatures(rs, q.BucketsT)[3], 1, 0, q.BucketsT)
	nets := map[string]intentnet.Forwarder{"int8": q.Tagger}
	if fb, err := os.ReadFile("../../weights-f32.bin"); err == nil {
		if fm, err := intentnet.Decode(fb); err == nil {
			nets["float"] = fm.Tagger
		}
	}
	for _, name := range []string{"int8", "float"} {
		n := nets[name]
		if n == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			var out [64]float32
			for b.Loop() {
				n.Forward(feats, out[:])
			}
		})
	}
}
