package intentnet

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"strconv"
)

// The weights file, little-endian:
//
//	"CPIM" u16 version u8 kind (0 float32, 1 int8)
//	string-lists Intents, Attrs, SlotTypes (u32 count, then u16 length + bytes each)
//	string-list apps (alias, package, display name, ...), string-list settings (surface form, key, ...)
//	net intent, net tagger: u32 In, Hid, Out, then
//	  float32: E, B1, W, B2 as float32
//	  int8:    E as int8, ES, B1 as float32, W as int8, WS, B2 as float32
//	u32 CRC-32 (IEEE) of everything before it
const (
	magic         = "CPIM"
	formatVersion = 1
	kindFloat     = 0
	kindInt8      = 1
)

// Errors Decode returns.
var (
	ErrFormat   = errors.New("intentnet: not a weights file")
	ErrChecksum = errors.New("intentnet: weights checksum mismatch")
	ErrLabels   = errors.New("intentnet: weights were trained for other labels")
)

// Encode serializes m.
func Encode(m *Model) ([]byte, error) {
	w := &writer{b: []byte(magic)}
	w.u16(formatVersion)
	var kind uint8
	switch m.Intent.(type) {
	case *Net:
		if _, ok := m.Tagger.(*Net); !ok {
			return nil, errors.New("intentnet: encode: nets of different kinds")
		}
	case *Int8Net:
		if _, ok := m.Tagger.(*Int8Net); !ok {
			return nil, errors.New("intentnet: encode: nets of different kinds")
		}
		kind = kindInt8
	default:
		return nil, errors.New("intentnet: encode: unknown net type")
	}
	w.b = append(w.b, kind)
	w.strs(Intents)
	w.strs(Attrs)
	w.strs(SlotTypes)
	var apps, sets []string
	for _, a := range m.Apps {
		apps = append(apps, a.Alias, a.Package, a.Name)
	}
	for _, s := range m.Settings {
		sets = append(sets, s.Surface, s.Key)
	}
	w.strs(apps)
	w.strs(sets)
	for _, n := range []Forwarder{m.Intent, m.Tagger} {
		switch n := n.(type) {
		case *Net:
			w.u32(n.In, n.Hid, n.Out)
			w.f32(n.E, n.B1, n.W, n.B2)
		case *Int8Net:
			w.u32(n.In, n.Hid, n.Out)
			w.i8(n.E)
			w.f32(n.ES, n.B1)
			w.i8(n.W)
			w.f32(n.WS, n.B2)
		}
	}
	w.b = binary.LittleEndian.AppendUint32(w.b, crc32.ChecksumIEEE(w.b))
	return w.b, nil
}

// Decode reads a weights file written by Encode. It checks the checksum,
// that the labels are this package's, and every size, so a bad file is an
// error and never a panic later.
func Decode(data []byte) (*Model, error) {
	if len(data) < len(magic)+3+4 || string(data[:len(magic)]) != magic {
		return nil, ErrFormat
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return nil, ErrChecksum
	}
	r := &reader{b: body[len(magic):]}
	if v := r.u16(); v != formatVersion {
		return nil, errors.New("intentnet: weights format version " + strconv.Itoa(int(v)) + ", want " + strconv.Itoa(formatVersion))
	}
	kind := r.u8()
	for _, want := range [][]string{Intents, Attrs, SlotTypes} {
		if !equal(r.strs(), want) {
			return nil, ErrLabels
		}
	}
	m := &Model{}
	apps := r.strs()
	for i := 0; i+2 < len(apps); i += 3 {
		m.Apps = append(m.Apps, App{Alias: apps[i], Package: apps[i+1], Name: apps[i+2]})
	}
	sets := r.strs()
	for i := 0; i+1 < len(sets); i += 2 {
		m.Settings = append(m.Settings, Setting{Surface: sets[i], Key: sets[i+1]})
	}
	var nets [2]Forwarder
	for i := range nets {
		in, hid, out := r.u32(), r.u32(), r.u32()
		if r.err != nil || in <= 0 || in > 1<<20 || hid <= 0 || hid > MaxHidden || out <= 0 || out > 64 {
			return nil, errors.New("intentnet: bad net sizes")
		}
		switch kind {
		case kindFloat:
			nets[i] = &Net{In: in, Hid: hid, Out: out, E: r.f32(in * hid), B1: r.f32(hid), W: r.f32(out * hid), B2: r.f32(out)}
		case kindInt8:
			nets[i] = &Int8Net{In: in, Hid: hid, Out: out, E: r.i8(in * hid), ES: r.f32(hid), B1: r.f32(hid),
				W: r.i8(out * hid), WS: r.f32(out), B2: r.f32(out)}
		default:
			return nil, errors.New("intentnet: unknown weights kind " + strconv.Itoa(int(kind)))
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errors.New("intentnet: trailing bytes in weights")
	}
	m.Intent, m.Tagger = nets[0], nets[1]
	if m.Intent.Outputs() != len(Intents)+len(Attrs) || m.Tagger.Outputs() != NumTags {
		return nil, ErrLabels
	}
	m.BucketsS, m.BucketsT = inputs(m.Intent), inputs(m.Tagger)
	return m, nil
}

func inputs(f Forwarder) int {
	switch n := f.(type) {
	case *Net:
		return n.In
	case *Int8Net:
		return n.In
	}
	return 0
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type writer struct{ b []byte }

func (w *writer) u16(v int) { w.b = binary.LittleEndian.AppendUint16(w.b, uint16(v)) }

func (w *writer) u32(vs ...int) {
	for _, v := range vs {
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v))
	}
}

func (w *writer) strs(ss []string) {
	w.u32(len(ss))
	for _, s := range ss {
		w.u16(len(s))
		w.b = append(w.b, s...)
	}
}

func (w *writer) f32(vss ...[]float32) {
	for _, vs := range vss {
		for _, v := range vs {
			w.b = binary.LittleEndian.AppendUint32(w.b, math.Float32bits(v))
		}
	}
}

func (w *writer) i8(vs []int8) {
	for _, v := range vs {
		w.b = append(w.b, byte(v))
	}
}

// reader reads with bounds checks; after the first short read every read
// returns zero values and err is set.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = errors.New("intentnet: weights file is truncated")
		}
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8 {
	if p := r.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u16() int {
	if p := r.take(2); p != nil {
		return int(binary.LittleEndian.Uint16(p))
	}
	return 0
}

func (r *reader) u32() int {
	if p := r.take(4); p != nil {
		return int(binary.LittleEndian.Uint32(p))
	}
	return 0
}

func (r *reader) strs() []string {
	n := r.u32()
	if n > len(r.b)/2 {
		r.take(-1)
		return nil
	}
	ss := make([]string, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		ss = append(ss, string(r.take(r.u16())))
	}
	return ss
}

func (r *reader) f32(n int) []float32 {
	p := r.take(4 * n)
	if p == nil {
		return nil
	}
	vs := make([]float32, n)
	for i := range vs {
		vs[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return vs
}

func (r *reader) i8(n int) []int8 {
	p := r.take(n)
	if p == nil {
		return nil
	}
	vs := make([]int8, n)
	for i := range p {
		vs[i] = int8(p[i])
	}
	return vs
}
