package wasmrt

import (
	"errors"
	"fmt"
)

// exportInterrupt is the global instrument adds and exports: while it is
// zero the guest runs; once the host sets it, the guest traps at its next
// loop iteration.
const exportInterrupt = "cp_interrupt"

// Section ids of the wasm binary format.
const (
	secCustom = 0
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10
)

// instrument returns a copy of the wasm module bin in which the header of
// every loop reads a new mutable i32 global, exported as cp_interrupt, and
// executes unreachable when it is not zero:
//
//	loop bt
//	  global.get $cp_interrupt
//	  if
//	    unreachable
//	  end
//	  ...
//
// Every unbounded computation in wasm is a loop or recursion (which ends on
// the stack limit), so setting the global from another goroutine stops a
// runaway call within one loop iteration. The check is a load and a branch;
// wazero's own WithCloseOnContextDone instead leaves the compiled code for
// Go at every loop header, which makes a Go guest many times slower (see
// the package documentation). Custom sections that hold code offsets
// (.debug_*) are dropped, as the offsets change; everything else is kept.
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
	haveGlobal, haveExport := false, false
	for _, s := range secs {
		switch s.id {
		case secImport:
			n, err := importedGlobals(s.body)
			if err != nil {
				return nil, fmt.Errorf("invalid wasm: import section: %w", err)
			}
			globals += n
		case secGlobal:
			r := reader{b: s.body}
			globals += r.u32()
			if r.err != nil {
				return nil, fmt.Errorf("invalid wasm: global section: %w", r.err)
			}
			haveGlobal = true
		case secExport:
			haveExport = true
		}
	}
	idx := globals

	out := make([]byte, 0, len(bin)+len(bin)/16)
	out = append(out, bin[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// newGlobal is a mutable i32 initialized to 0.
	newGlobal := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	newExport := appendName(nil, exportInterrupt)
	newExport = append(newExport, 0x03) // global
	newExport = appendU32(newExport, idx)
	for _, s := range secs {
		// Sections are ordered; a missing global or export section goes
		// where it belongs (globals before exports, both before code).
		if !haveGlobal && s.id != secCustom && s.id > secGlobal {
			emit(secGlobal, appendVec(nil, 0, newGlobal))
			haveGlobal = true
		}
		if !haveExport && s.id != secCustom && s.id > secExport {
			emit(secExport, appendVec(nil, 0, newExport))
			haveExport = true
		}
		switch s.id {
		case secGlobal, secExport:
			r := reader{b: s.body}
			n := r.u32()
			if r.err != nil {
				return nil, fmt.Errorf("invalid wasm: section %d: %w", s.id, r.err)
			}
			extra := newGlobal
			if s.id == secExport {
				extra = newExport
			}
			emit(s.id, appendVec(r.b[r.off:], n, extra))
		case secCode:
			body, err := instrumentCode(s.body, idx)
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
	if !haveExport {
		emit(secExport, appendVec(nil, 0, newExport))
	}
	return out, nil
}

// appendVec returns a vector of n+1 entries: the n encoded in entries,
// then extra.
func appendVec(entries []byte, n uint32, extra []byte) []byte {
	out := appendU32(make([]byte, 0, 5+len(entries)+len(extra)), n+1)
	return append(append(out, entries...), extra...)
}
