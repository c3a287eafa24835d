package intentnet

import "math"

// Forwarder computes a net's output logits for a sparse input: the bucket
// ids of the active features (a repeated id counts twice). Out must have
// room for the net's outputs; Forward returns out[:Outputs()].
type Forwarder interface {
	Forward(feats []uint32, out []float32) []float32
	Outputs() int
}

// Net is a float32 two-layer MLP over sparse inputs:
//
//	h = ReLU(B1 + Σ_{b ∈ feats} E[b])   (E is In×Hid, row b at E[b*Hid:])
//	y = B2 + W·h                        (W is Out×Hid, row k at W[k*Hid:])
type Net struct {
	In, Hid, Out int
	E, B1, W, B2 []float32
}

// NewNet returns a zero net of the given sizes.
func NewNet(in, hid, out int) *Net {
	return &Net{In: in, Hid: hid, Out: out,
		E: make([]float32, in*hid), B1: make([]float32, hid),
		W: make([]float32, out*hid), B2: make([]float32, out)}
}

// Outputs implements Forwarder.
func (n *Net) Outputs() int { return n.Out }

// Hidden computes the hidden layer before ReLU into z and returns it.
func (n *Net) Hidden(feats []uint32, z []float32) []float32 {
	z = append(z[:0], n.B1...)
	for _, b := range feats {
		if int(b) >= n.In {
			continue
		}
		row := n.E[int(b)*n.Hid : int(b+1)*n.Hid]
		row = row[:len(z)]
		for j := range z {
			z[j] += row[j]
		}
	}
	return z
}

// Forward implements Forwarder.
func (n *Net) Forward(feats []uint32, out []float32) []float32 {
	var zb [MaxHidden]float32
	z := n.Hidden(feats, zb[:0])
	out = out[:n.Out]
	for k := range out {
		row := n.W[k*n.Hid : (k+1)*n.Hid]
		s := n.B2[k]
		for j, v := range row {
			if z[j] > 0 {
				s += float32(v * z[j]) // conversion: no fused multiply-add, same bits on every GOARCH
			}
		}
		out[k] = s
	}
	return out
}

// Int8Net is the quantized form of a Net: symmetric INT8 weights with a
// float32 scale per output channel (ES per hidden unit for E, WS per
// output row for W), float32 biases.
type Int8Net struct {
	In, Hid, Out int
	E            []int8
	ES, B1       []float32
	W            []int8
	WS, B2       []float32
}

// Outputs implements Forwarder.
func (n *Int8Net) Outputs() int { return n.Out }

// Forward implements Forwarder: the embedding bag sums INT8 weights in
// int32; the hidden layer is quantized to INT8 with one symmetric scale;
// the second layer multiplies INT8 by INT8 into int32; each accumulator
// is scaled back to float once.
func (n *Int8Net) Forward(feats []uint32, out []float32) []float32 {
	var accb [MaxHidden]int32
	acc := accb[:n.Hid]
	for _, b := range feats {
		if int(b) >= n.In {
			continue
		}
		addRow(acc, n.E[int(b)*n.Hid:int(b+1)*n.Hid])
	}
	var hb [MaxHidden]float32
	h := hb[:n.Hid]
	var hmax float32
	for j, a := range acc {
		v := float32(a)*n.ES[j] + n.B1[j]
		if v < 0 {
			v = 0
		}
		h[j] = v
		hmax = max(hmax, v)
	}
	out = out[:n.Out]
	if hmax == 0 {
		copy(out, n.B2)
		return out
	}
	hs := hmax / 127
	inv := 127 / hmax
	// Only the non-zero activations (ReLU leaves about half) are multiplied.
	var qb [MaxHidden]int32
	var nzb [MaxHidden]uint16
	q, nz := qb[:0], nzb[:0]
	for j, v := range h {
		if x := int32(v*inv + 0.5); x != 0 { // v ≥ 0: round half up, at most 127
			q, nz = append(q, x), append(nz, uint16(j))
		}
	}
	for k := range out {
		row := n.W[k*n.Hid : (k+1)*n.Hid]
		var a int32
		for i, j := range nz {
			a += int32(row[j]) * q[i]
		}
		out[k] = float32(a)*n.WS[k]*hs + n.B2[k]
	}
	return out
}

// MaxHidden is the largest hidden layer the forward passes support.
const MaxHidden = 256

// Quantize returns the INT8 form of n, with symmetric per-channel scales:
// scale = max|w| / 127 over the channel, q = round(w / scale), so every
// weight is within scale/2 of its dequantized value.
func Quantize(n *Net) *Int8Net {
	q := &Int8Net{In: n.In, Hid: n.Hid, Out: n.Out,
		E: make([]int8, len(n.E)), ES: make([]float32, n.Hid), B1: append([]float32(nil), n.B1...),
		W: make([]int8, len(n.W)), WS: make([]float32, n.Out), B2: append([]float32(nil), n.B2...)}
	for j := 0; j < n.Hid; j++ {
		var m float32
		for b := 0; b < n.In; b++ {
			m = max(m, abs32(n.E[b*n.Hid+j]))
		}
		q.ES[j] = scaleFor(m)
		for b := 0; b < n.In; b++ {
			q.E[b*n.Hid+j] = quant(n.E[b*n.Hid+j], q.ES[j])
		}
	}
	for k := 0; k < n.Out; k++ {
		var m float32
		row := n.W[k*n.Hid : (k+1)*n.Hid]
		for _, v := range row {
			m = max(m, abs32(v))
		}
		q.WS[k] = scaleFor(m)
		for j, v := range row {
			q.W[k*n.Hid+j] = quant(v, q.WS[k])
		}
	}
	return q
}

// Dequantize returns the float net whose weights are q's dequantized
// values (for measuring quantization error).
func Dequantize(q *Int8Net) *Net {
	n := NewNet(q.In, q.Hid, q.Out)
	for i, v := range q.E {
		n.E[i] = float32(v) * q.ES[i%q.Hid]
	}
	for i, v := range q.W {
		n.W[i] = float32(v) * q.WS[i/q.Hid]
	}
	copy(n.B1, q.B1)
	copy(n.B2, q.B2)
	return n
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func scaleFor(m float32) float32 {
	if m == 0 {
		return 1
	}
	return m / 127
}

func quant(v, s float32) int8 {
	r := math.Round(float64(v / s))
	return int8(max(-127, min(127, r)))
}

// addRow adds an INT8 row to int32 accumulators, eight at a time: fewer
// loop back-edges, which the wasm host instruments for deadlines.
func addRow(acc []int32, row []int8) {
	row = row[:len(acc)]
	j := 0
	for ; j+8 <= len(acc); j += 8 {
		a, r := acc[j:j+8:j+8], row[j:j+8:j+8]
		a[0] += int32(r[0])
		a[1] += int32(r[1])
		a[2] += int32(r[2])
		a[3] += int32(r[3])
		a[4] += int32(r[4])
		a[5] += int32(r[5])
		a[6] += int32(r[6])
		a[7] += int32(r[7])
	}
	for ; j < len(acc); j++ {
		acc[j] += int32(row[j])
	}
}
