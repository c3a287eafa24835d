package wasmrt

import (
	"errors"
	"fmt"
)

// yieldEvery is how many loop iterations pass between two calls to
// sched_yield, a power of two (the check masks a counter).
const yieldEvery = 1 << 16

// Section ids of the wasm binary format.
const (
	secCustom = 0
	secImport = 2
	secGlobal = 6
	secExport = 7
	secCode   = 10
)

// instrument returns a copy of the wasm module bin in which the header of
// every loop counts its iterations in a new mutable i32 global and calls
// the module's imported wasi sched_yield every yieldEvery of them:
//
//	loop bt
//	  global.get $n; i32.const 1; i32.add; global.set $n
//	  global.get $n; i32.const yieldEvery-1; i32.and; i32.eqz
//	  if
//	    call $sched_yield; drop
//	  end
//	  ...
//
// The host's sched_yield (Options-independent, see instance.yield) checks
// the call's deadline and context and, when either has passed, panics,
// which wazero turns into an error of the call. Every unbounded
// computation in wasm is a loop or a recursion (which ends on the stack
// limit), so a runaway call stops within yieldEvery iterations (well under
// a millisecond). The periodic call into Go also lets the Go scheduler and
// garbage collector stop the goroutine, which they cannot do while it runs
// compiled wasm: without it, a stop-the-world pause would wait for the
// runaway call forever.
//
// wazero's own WithCloseOnContextDone instead leaves compiled code for Go
// at every loop header, and every Go function has one, which makes a Go
// guest many times slower (see Options.CloseOnContextDone).
//
// Custom sections that hold code offsets (.debug_*) are dropped, as the
// offsets change; everything else is kept. A module that does not import
// wasi_snapshot_preview1.sched_yield (Go guests always do) is refused.
//
// instrument also exports every mutable global (the counter included)
// under a reserved name, so that the host can snapshot an initialized
// instance and start later ones from it (snapshot.go), unless the module
// keeps state a snapshot cannot restore.
func instrument(bin []byte) ([]byte, error) {
	m, err := instrumentModule(bin)
	if err != nil {
		return nil, err
	}
	return m.code, nil
}

// instrumented is a module rewritten by instrumentModule.
type instrumented struct {
	code []byte
	// snap says how to snapshot an instance of code; nil when it cannot
	// be, for the reason in noSnapshot.
	snap       *snapshotLayout
	noSnapshot string
}

// instrumentModule is instrument, and says whether and how instances of
// the result can be snapshotted.
func instrumentModule(bin []byte) (*instrumented, error) {
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
	var globals, imported uint32
	var mutable []uint32 // defined mutable globals a snapshot restores
	yield := int64(-1)
	haveGlobal, haveCode, haveExport := false, false, false
	noSnapshot := ""
	for _, s := range secs {
		switch s.id {
		case secCode:
			haveCode = true
		case secImport:
			n, y, err := scanImports(s.body)
			if err != nil {
				return nil, fmt.Errorf("invalid wasm: import section: %w", err)
			}
			globals += n
			imported = n
			yield = y
		case secGlobal:
			r := reader{b: s.body}
			n := r.u32()
			if r.err != nil {
				return nil, fmt.Errorf("invalid wasm: global section: %w", r.err)
			}
			var why string
			mutable, why = scanGlobals(s.body, globals)
			if why != "" && noSnapshot == "" {
				noSnapshot = why
			}
			globals += n
			haveGlobal = true
		case secExport:
			haveExport = true
			if why := scanExports(s.body); why != "" && noSnapshot == "" {
				noSnapshot = why
			}
		}
	}
	if !haveCode {
		return &instrumented{code: bin, noSnapshot: "module has no code"}, nil // no code, no loops
	}
	switch {
	case noSnapshot != "":
	case imported > 0:
		noSnapshot = "module imports globals"
	case !haveExport:
		noSnapshot = "module has no export section"
	}
	if yield < 0 {
		return nil, fmt.Errorf("module does not import %s.sched_yield, which the host needs to enforce deadlines; load it with Options.CloseOnContextDone", wasiModule)
	}
	check := loopCheck(globals, uint32(yield))

	out := make([]byte, 0, len(bin)+len(bin)/8)
	out = append(out, bin[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// The counter: a mutable i32 initialized to 0.
	newGlobal := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b}
	counter := globals
	// The code is scanned before the export section is written.
	var code []byte
	for _, s := range secs {
		if s.id == secCode {
			body, stateful, err := instrumentCode(s.body, check)
			if err != nil {
				return nil, fmt.Errorf("invalid wasm: code section: %w", err)
			}
			code = body
			if stateful && noSnapshot == "" {
				noSnapshot = "module changes tables or drops segments"
			}
		}
	}
	var layout *snapshotLayout
	if noSnapshot == "" {
		layout = newSnapshotLayout(append(mutable, counter))
	}
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
			emit(secCode, code)
		case secExport:
			if layout == nil {
				emit(s.id, s.body)
				break
			}
			r := reader{b: s.body}
			n := r.u32()
			body := appendU32(nil, n+uint32(len(layout.globals)))
			body = append(append(body, r.b[r.off:]...), layout.exports()...)
			emit(s.id, body)
		default:
			emit(s.id, s.body)
		}
	}
	if !haveGlobal {
		emit(secGlobal, appendVec(nil, 0, newGlobal))
	}
	return &instrumented{code: out, snap: layout, noSnapshot: noSnapshot}, nil
}

// loopCheck is the code instrument inserts after every loop instruction,
// for the counter global g and the sched_yield function yield.
func loopCheck(g, yield uint32) []byte {
	b := appendU32([]byte{0x23}, g)   // global.get g
	b = append(b, 0x41, 0x01, 0x6a)   // i32.const 1; i32.add
	b = appendU32(append(b, 0x24), g) // global.set g
	b = appendU32(append(b, 0x23), g) // global.get g
	b = appendU32(append(b, 0x41), yieldEvery-1)
	b = append(b, 0x71, 0x45, 0x04, 0x40) // i32.and; i32.eqz; if
	b = appendU32(append(b, 0x10), yield) // call yield
	return append(b, 0x1a, 0x0b)          // drop; end
}

// appendVec returns a vector of n+1 entries: the n encoded in entries,
// then extra.
func appendVec(entries []byte, n uint32, extra []byte) []byte {
	out := appendU32(make([]byte, 0, 5+len(entries)+len(extra)), n+1)
	return append(append(out, entries...), extra...)
}
