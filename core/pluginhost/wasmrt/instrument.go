package wasmrt

import (
	"errors"
	"fmt"
)

// The loop counters instrument adds. Every loop header decrements a new
// local of its function; once in localTicks headers, and on the first
// header of each call, it ticks a module-wide global counter instead, and
// every globalTicks ticks of that it calls sched_yield. A loop that stays
// in one function so yields every localTicks*globalTicks = 65,536
// iterations; code that loops through calls (recursion) yields every
// globalTicks function entries. Both are powers of two.
const (
	localTicks  = 1 << 4
	globalTicks = 1 << 12
)

// Section ids of the wasm binary format.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secGlobal   = 6
	secCode     = 10
)

// instrument returns a copy of the wasm module bin in which the header of
// every loop counts its iterations and calls the module's imported wasi
// sched_yield periodically. Each function gets a new i32 local $c (zero
// at entry) and the module a new mutable i32 global $n:
//
//	loop bt
//	  local.get $c; i32.eqz
//	  if
//	    i32.const localTicks; local.set $c
//	    global.get $n; i32.const 1; i32.add; global.set $n
//	    global.get $n; i32.const globalTicks-1; i32.and; i32.eqz
//	    if
//	      call $sched_yield; drop
//	    end
//	  end
//	  local.get $c; i32.const -1; i32.add; local.set $c
//	  ...
//
// Most loop headers so cost a register decrement and a branch: Go's wasm
// code enters its function's loop header on every jump, so a counter in
// memory on each header, as this was at first, made the module about a
// third slower.
//
// The host's sched_yield (Options-independent, see instance.yield) checks
// the call's deadline and context and, when either has passed, panics,
// which wazero turns into an error of the call. Every unbounded
// computation in wasm is a loop or a recursion, and every call of a
// function with a loop ticks the global counter, so a runaway call stops
// within 65,536 iterations of a loop or 4,096 calls (well under a
// millisecond). A recursion through functions without loops ends on the
// stack limit (Go functions all have the loop). The periodic call into Go
// also lets the Go scheduler and garbage collector stop the goroutine,
// which they cannot do while it runs compiled wasm: without it, a
// stop-the-world pause would wait for the runaway call forever.
//
// wazero's own WithCloseOnContextDone instead leaves compiled code for Go
// at every loop header, and every Go function has one, which makes a Go
// guest many times slower (see Options.CloseOnContextDone).
//
// Custom sections that hold code offsets (.debug_*) are dropped, as the
// offsets change; everything else is kept. A module that does not import
// wasi_snapshot_preview1.sched_yield (Go guests always do) is refused.
func instrument(bin []byte) ([]byte, error) {
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, errors.New("invalid wasm: bad magic number")
	}
	if string(bin[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("invalid wasm: unsupported binary version")
	}
	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	for r := (reader{b: bin, off: 8}); !r.done(); {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("invalid wasm: section %d: %w", id, r.err)
		}
		if id == secCustom && isDebugSection(body) {
			continue
		}
		secs = append(secs, section{id, body})
	}

	// The new global's index follows the imported and defined globals.
	var globals uint32
	yield := int64(-1)
	haveGlobal, haveCode := false, false
	var params []uint32 // parameter count of each type
	var funcTypes []byte
	for _, s := range secs {
		switch s.id {
		case secCode:
			haveCode = true
		case secType:
			var err error
			if params, err = scanTypes(s.body); err != nil {
				return nil, fmt.Errorf("invalid wasm: type section: %w", err)
			}
		case secFunction:
			funcTypes = s.body
		case secImport:
			n, y, err := scanImports(s.body)
			if err != nil {
				return nil, fmt.Errorf("invalid wasm: import section: %w", err)
			}
			globals += n
			yield = y
		case secGlobal:
			r := reader{b: s.body}
			globals += r.u32()
			if r.err != nil {
				return nil, fmt.Errorf("invalid wasm: global section: %w", r.err)
			}
			haveGlobal = true
		}
	}
	if !haveCode {
		return bin, nil // no code, no loops
	}
	if yield < 0 {
		return nil, fmt.Errorf("module does not import %s.sched_yield, which the host needs to enforce deadlines; load it with Options.CloseOnContextDone", wasiModule)
	}
	nparams, err := paramCounts(funcTypes, params)
	if err != nil {
		return nil, fmt.Errorf("invalid wasm: function section: %w", err)
	}
	counter := globals

	out := make([]byte, 0, len(bin)+len(bin)/8)
	out = append(out, bin[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// The counter: a mutable i32 initialized to 0.
	newGlobal := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	for _, s := range secs {
		// Sections are ordered: a missing global section goes before the
		// first known section that follows it.
		if !haveGlobal && s.id != secCustom && s.id > secGlobal {
			emit(secGlobal, appendVec(nil, 0, newGlobal))
			haveGlobal = true
		}
		switch s.id {
		case secGlobal:
			r := reader{b: s.body}
			n := r.u32()
			emit(s.id, appendVec(r.b[r.off:], n, newGlobal))
		case secCode:
			body, err := instrumentCode(s.body, nparams, counter, uint32(yield))
			if err != nil {
				return nil, fmt.Errorf("invalid wasm: code section: %w", err)
			}
			emit(secCode, body)
		default:
			emit(s.id, s.body)
		}
	}
	if !haveGlobal {
		emit(secGlobal, appendVec(nil, 0, newGlobal))
	}
	return out, nil
}

// loopCheck is the code instrument inserts after every loop instruction,
// for the local counter c, the global counter g and the sched_yield
// function yield.
func loopCheck(c, g, yield uint32) []byte {
	b := appendU32([]byte{0x20}, c)               // local.get c
	b = append(b, 0x45, 0x04, 0x40)               // i32.eqz; if
	b = appendU32(append(b, 0x41), localTicks)    // i32.const localTicks
	b = appendU32(append(b, 0x21), c)             // local.set c
	b = appendU32(append(b, 0x23), g)             // global.get g
	b = append(b, 0x41, 0x01, 0x6a)               // i32.const 1; i32.add
	b = appendU32(append(b, 0x24), g)             // global.set g
	b = appendU32(append(b, 0x23), g)             // global.get g
	b = appendU32(append(b, 0x41), globalTicks-1) // i32.const globalTicks-1
	b = append(b, 0x71, 0x45, 0x04, 0x40)         // i32.and; i32.eqz; if
	b = appendU32(append(b, 0x10), yield)         // call yield
	b = append(b, 0x1a, 0x0b, 0x0b)               // drop; end; end
	b = appendU32(append(b, 0x20), c)             // local.get c
	b = append(b, 0x41, 0x7f, 0x6a)               // i32.const -1; i32.add
	return appendU32(append(b, 0x21), c)          // local.set c
}

// appendVec returns a vector of n+1 entries: the n encoded in entries,
// then extra.
func appendVec(entries []byte, n uint32, extra []byte) []byte {
	out := appendU32(make([]byte, 0, 5+len(entries)+len(extra)), n+1)
	return append(append(out, entries...), extra...)
}
