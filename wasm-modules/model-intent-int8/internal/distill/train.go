package distill

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/openautoglm/cloudphone/wasm-modules/model-intent-int8/internal/intentnet"
)

// Config sets the model sizes and training schedule.
type Config struct {
	Seed               uint64
	BucketsS, BucketsT int // hashed feature buckets of the intent net and tagger
	HidS, HidT         int // hidden units
	EpochsS, EpochsT   int
	LR                 float32 // Adagrad learning rate
	Alpha, T, Eps      float64 // soft-target mixing, temperature, floor
	TagSmooth          float32 // probability of the teacher's tag
}

// DefaultConfig is the configuration of the committed weights.
func DefaultConfig() Config {
	return Config{Seed: 20261123, BucketsS: 1 << 12, BucketsT: 1 << 12, HidS: 32, HidT: 48,
		EpochsS: 10, EpochsT: 8, LR: 0.05, Alpha: 0.8, T: 2, Eps: 1e-3, TagSmooth: 0.95}
}

// SoftIntent returns the soft targets of every example's intent and
// attribute heads (see the package documentation), concatenated as the
// intent net's output.
func SoftIntent(cfg Config, data []Labeled) [][]float32 {
	ni, na := len(intentnet.Intents), len(intentnet.Attrs)
	type dist struct{ in, at []float64 }
	per := map[string]*dist{}
	for _, d := range data {
		p := per[d.Template]
		if p == nil {
			p = &dist{make([]float64, ni), make([]float64, na)}
			per[d.Template] = p
		}
		p.in[d.Intent]++
		p.at[d.Attr]++
	}
	soft := func(onehot int, tmpl []float64) []float32 {
		var n float64
		for _, v := range tmpl {
			n += v
		}
		z := make([]float64, len(tmpl))
		var zmax float64 = math.Inf(-1)
		for k := range z {
			v := (1 - cfg.Alpha) * tmpl[k] / n
			if k == onehot {
				v += cfg.Alpha
			}
			z[k] = math.Log(v+cfg.Eps) / cfg.T
			zmax = max(zmax, z[k])
		}
		var sum float64
		for k := range z {
			z[k] = math.Exp(z[k] - zmax)
			sum += z[k]
		}
		out := make([]float32, len(z))
		for k := range z {
			out[k] = float32(z[k] / sum)
		}
		return out
	}
	targets := make([][]float32, len(data))
	for i, d := range data {
		p := per[d.Template]
		targets[i] = append(soft(d.Intent, p.in), soft(d.Attr, p.at)...)
	}
	return targets
}

// sample is one training input of a net with its soft target.
type sample struct {
	feats  []uint32
	target []float32
}

// Train fits the float model on data (training split only).
func Train(cfg Config, data []Labeled) *intentnet.Model {
	soft := SoftIntent(cfg, data)
	var sS []sample
	for i, d := range data {
		sS = append(sS, sample{intentnet.SentenceFeatures(d.Runes, cfg.BucketsS), soft[i]})
	}
	nt := intentnet.NumTags
	var sT []sample
	for _, d := range data {
		if !d.SlotOK {
			continue
		}
		static := intentnet.StaticTokenFeatures(d.Runes, cfg.BucketsT)
		p1, p2 := -1, -1
		for i, t := range d.Tags {
			tgt := make([]float32, nt)
			for k := range tgt {
				tgt[k] = (1 - cfg.TagSmooth) / float32(nt-1)
			}
			tgt[t] = cfg.TagSmooth
			sT = append(sT, sample{intentnet.TokenFeatures(nil, static[i], p1, p2, cfg.BucketsT), tgt})
			p1, p2 = t, p1
		}
	}
	ni := len(intentnet.Intents)
	var netS, netT *intentnet.Net
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		netS = fit(cfg, cfg.Seed, sS, cfg.BucketsS, cfg.HidS, ni+len(intentnet.Attrs), [][2]int{{0, ni}, {ni, ni + len(intentnet.Attrs)}}, cfg.EpochsS)
	}()
	go func() {
		defer wg.Done()
		netT = fit(cfg, cfg.Seed+1, sT, cfg.BucketsT, cfg.HidT, nt, [][2]int{{0, nt}}, cfg.EpochsT)
	}()
	wg.Wait()
	return &intentnet.Model{Intent: netS, Tagger: netT, BucketsS: cfg.BucketsS, BucketsT: cfg.BucketsT}
}

// fit trains one net with Adagrad and per-head softmax cross-entropy.
func fit(cfg Config, seed uint64, data []sample, in, hid, out int, heads [][2]int, epochs int) *intentnet.Net {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	n := intentnet.NewNet(in, hid, out)
	for i := range n.E {
		n.E[i] = float32(rng.Float64()*0.2 - 0.1)
	}
	a := math.Sqrt(6 / float64(hid+out))
	for i := range n.W {
		n.W[i] = float32((rng.Float64()*2 - 1) * a)
	}
	gE, gB1 := make([]float32, len(n.E)), make([]float32, hid)
	gW, gB2 := make([]float32, len(n.W)), make([]float32, out)
	upd := func(w, g []float32, i int, grad float32) {
		g[i] += float32(grad * grad)
		w[i] -= float32(cfg.LR*grad) / (float32(math.Sqrt(float64(g[i]))) + 1e-6)
	}
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	z := make([]float32, hid)
	y := make([]float32, out)
	dy := make([]float32, out)
	dz := make([]float32, hid)
	for range epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, idx := range order {
			s := data[idx]
			z = n.Hidden(s.feats, z)
			y = n.Forward(s.feats, y)
			for _, h := range heads {
				ys := y[h[0]:h[1]]
				m := ys[0]
				for _, v := range ys {
					m = max(m, v)
				}
				var sum float64
				for _, v := range ys {
					sum += math.Exp(float64(v - m))
				}
				for k := h[0]; k < h[1]; k++ {
					dy[k] = float32(math.Exp(float64(y[k]-m))/sum) - s.target[k]
				}
			}
			for j := range dz {
				dz[j] = 0
			}
			for k := 0; k < out; k++ {
				row := n.W[k*hid : (k+1)*hid]
				for j := range row {
					if z[j] > 0 {
						dz[j] += float32(row[j] * dy[k])
					}
				}
			}
			for k := 0; k < out; k++ {
				for j := 0; j < hid; j++ {
					if z[j] > 0 {
						upd(n.W, gW, k*hid+j, float32(dy[k]*z[j]))
					}
				}
				upd(n.B2, gB2, k, dy[k])
			}
			for j := 0; j < hid; j++ {
				if z[j] <= 0 {
					continue
				}
				upd(n.B1, gB1, j, dz[j])
				for _, b := range s.feats {
					if int(b) < in {
						upd(n.E, gE, int(b)*hid+j, dz[j])
					}
				}
			}
		}
	}
	return n
}
