package wasmrt

import (
	"errors"
	"fmt"
	"strings"
)

// reader decodes the wasm binary format. The first error sticks; later
// reads return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

var errTruncated = errors.New("unexpected end")

func (r *reader) done() bool { return r.err != nil || r.off >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = errTruncated
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

// leb skips or reads an LEB128 number of at most maxBytes bytes and
// returns its low 32 bits (unsigned reading).
func (r *reader) leb(maxBytes int) uint32 {
	var v uint32
	for i := 0; i < maxBytes; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if i < 5 {
			v |= uint32(c&0x7f) << (7 * i)
		}
		if c < 0x80 {
			return v
		}
	}
	r.err = errors.New("LEB128 number too long")
	return 0
}

func (r *reader) u32() uint32 { return r.leb(5) }

// name skips a name (a length-prefixed byte string) and returns it.
func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// isDebugSection reports whether a custom section's body is DWARF.
func isDebugSection(body []byte) bool {
	r := reader{b: body}
	return strings.HasPrefix(r.name(), ".debug_") && r.err == nil
}

// scanImports counts the globals an import section imports and finds the
// function index of wasi sched_yield (-1 if not imported).
func scanImports(body []byte) (globals uint32, yield int64, err error) {
	r := reader{b: body}
	yield = -1
	var funcs int64
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		mod, name := r.name(), r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
			if mod == wasiModule && name == "sched_yield" && yield < 0 {
				yield = funcs
			}
			funcs++
		case 0x01: // table: reftype, limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: valtype, mutability
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			return 0, -1, fmt.Errorf("unknown import kind %#x", kind)
		}
	}
	return globals, yield, r.err
}

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// instrumentCode rewrites a code section, inserting check after every
// loop instruction. stateful reports whether any function changes state
// that lives outside linear memory and globals (tables, dropped segments),
// which rules out snapshots (see snapshot.go).
func instrumentCode(body []byte, check []byte) (out []byte, stateful bool, err error) {
	r := reader{b: body}
	n := r.u32()
	out = appendU32(make([]byte, 0, len(body)+len(body)/8), n)
	var fn []byte
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			break
		}
		var st bool
		fn, st, err = instrumentFunc(fn[:0], code, check)
		if err != nil {
			return nil, false, fmt.Errorf("function %d: %w", i, err)
		}
		stateful = stateful || st
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if r.err != nil {
		return nil, false, r.err
	}
	return out, stateful, nil
}

// instrumentFunc appends code, one function body, to dst with check
// inserted after every loop's block type. stateful reports a table.set,
// table.init, table.copy, table.grow, table.fill, data.drop or elem.drop.
func instrumentFunc(dst, code, check []byte) (out []byte, stateful bool, err error) {
	r := reader{b: code}
	for n := r.u32(); n > 0 && r.err == nil; n-- { // locals
		r.u32()
		r.byte()
	}
	last := 0 // code[last:r.off] is not yet copied
	for !r.done() {
		op := r.byte()
		switch {
		case op == 0x03: // loop bt
			r.leb(5) // block type: s33
			dst = append(dst, code[last:r.off]...)
			dst = append(dst, check...)
			last = r.off
		case op == 0x02 || op == 0x04: // block, if
			r.leb(5)
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || // br, br_if, call, return_call
			(op >= 0x20 && op <= 0x26) || op == 0xd2: // locals, globals, tables, ref.func
			r.u32()
			stateful = stateful || op == 0x26 // table.set
		case op == 0x0e: // br_table
			for k := r.u32(); k > 0 && r.err == nil; k-- {
				r.u32()
			}
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			r.bytes(int(r.u32()))
		case op >= 0x28 && op <= 0x3e: // memarg
			if align := r.u32(); align&0x40 != 0 {
				r.u32() // memory index (multi-memory)
			}
			r.leb(10) // offset
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case r.skipConstImmediate(op):
		case op == 0xfc:
			st, err := r.skipFC()
			if err != nil {
				return nil, false, err
			}
			stateful = stateful || st
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
			(op >= 0x45 && op <= 0xc4) || op == 0xd1:
			// No immediates.
		default:
			return nil, false, fmt.Errorf("unsupported opcode %#x at offset %d", op, r.off-1)
		}
	}
	if r.err != nil {
		return nil, false, r.err
	}
	return append(dst, code[last:]...), stateful, nil
}

// skipFC skips the immediates of a 0xfc-prefixed instruction and reports
// whether it changes a table or drops a segment.
func (r *reader) skipFC() (stateful bool, err error) {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
		return sub == 12 || sub == 14, nil
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
		return sub == 9 || sub == 13 || sub == 15 || sub == 17, nil
	default:
		return false, fmt.Errorf("unsupported opcode 0xfc %d at offset %d", sub, r.off)
	}
	return false, nil
}

// skipConstImmediate skips the immediate of op if op is one of the
// constant instructions (i32/i64/f32/f64.const, ref.null), and reports
// whether it was: function bodies and constant expressions share them.
func (r *reader) skipConstImmediate(op byte) bool {
	switch op {
	case 0x41: // i32.const
		r.leb(5)
	case 0x42: // i64.const
		r.leb(10)
	case 0x43: // f32.const
		r.bytes(4)
	case 0x44: // f64.const
		r.bytes(8)
	case 0xd0: // ref.null t
		r.byte()
	default:
		return false
	}
	return true
}
