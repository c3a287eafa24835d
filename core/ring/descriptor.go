package ring

import (
	"encoding/binary"
	"fmt"
)

// A slot is 64 bytes: the 8-byte sequence word of the slot protocol, then
// the 56-byte descriptor body (docs/ring.md, "Descriptor").
const (
	descMagic   = 0x5243 // "CR" as little-endian bytes
	descVersion = 1

	kindCommand    = 1
	kindCompletion = 2

	dSeq      = 0  // u64 slot sequence (protocol word, atomic)
	dMagic    = 8  // u16
	dVersion  = 10 // u8
	dKind     = 11 // u8
	dFlags    = 12 // u32
	dID       = 16 // u64
	dSlice    = 24 // u32
	dModel    = 28 // u32
	dDeadline = 32 // i64 unix ns
	dTag      = 40 // u32
	dStatus   = 44 // u32
	dOffset   = 48 // u32 arena-relative byte offset
	dLength   = 52 // u32
	dReserved = 56 // u64, must be 0
)

// desc is a decoded descriptor body.
type desc struct {
	kind     uint8
	flags    uint32
	id       uint64
	slice    uint32
	model    uint32
	deadline int64
	tag      uint32
	status   uint32
	off      uint32
	length   uint32
}

// put writes d into a 64-byte slot, leaving the sequence word alone.
func (d *desc) put(slot []byte) {
	le := binary.LittleEndian
	_ = slot[descSize-1]
	le.PutUint16(slot[dMagic:], descMagic)
	slot[dVersion] = descVersion
	slot[dKind] = d.kind
	le.PutUint32(slot[dFlags:], d.flags)
	le.PutUint64(slot[dID:], d.id)
	le.PutUint32(slot[dSlice:], d.slice)
	le.PutUint32(slot[dModel:], d.model)
	le.PutUint64(slot[dDeadline:], uint64(d.deadline))
	le.PutUint32(slot[dTag:], d.tag)
	le.PutUint32(slot[dStatus:], d.status)
	le.PutUint32(slot[dOffset:], d.off)
	le.PutUint32(slot[dLength:], d.length)
	le.PutUint64(slot[dReserved:], 0)
}

// get reads a 64-byte slot. It checks only what every descriptor must
// have (magic, version, reserved word); validCommand and validCompletion
// check the rest against the ring's geometry. The fields are returned
// even on error so a rejection can name the tag and id.
func get(slot []byte) (desc, error) {
	le := binary.LittleEndian
	_ = slot[descSize-1]
	d := desc{
		kind:     slot[dKind],
		flags:    le.Uint32(slot[dFlags:]),
		id:       le.Uint64(slot[dID:]),
		slice:    le.Uint32(slot[dSlice:]),
		model:    le.Uint32(slot[dModel:]),
		deadline: int64(le.Uint64(slot[dDeadline:])),
		tag:      le.Uint32(slot[dTag:]),
		status:   le.Uint32(slot[dStatus:]),
		off:      le.Uint32(slot[dOffset:]),
		length:   le.Uint32(slot[dLength:]),
	}
	if m := le.Uint16(slot[dMagic:]); m != descMagic {
		return d, fmt.Errorf("%w: magic %#04x, want %#04x", ErrMalformed, m, descMagic)
	}
	if v := slot[dVersion]; v != descVersion {
		return d, fmt.Errorf("%w: version %d, want %d", ErrMalformed, v, descVersion)
	}
	if r := le.Uint64(slot[dReserved:]); r != 0 {
		return d, fmt.Errorf("%w: reserved word %#x is not zero", ErrMalformed, r)
	}
	return d, nil
}

// reqOff and resOff are the arena-relative offsets of a tag's request and
// result chunks.
func (g *geometry) reqOff(tag uint32) uint32 { return tag * g.chunk }
func (g *geometry) resOff(tag uint32) uint32 { return (g.entries + tag) * g.chunk }

// validCommand checks a command descriptor read from the SQ.
func (g *geometry) validCommand(d *desc) error {
	if d.kind != kindCommand {
		return fmt.Errorf("%w: kind %d in the submission ring, want %d", ErrMalformed, d.kind, kindCommand)
	}
	if Flag(d.flags)&^knownFlags != 0 {
		return fmt.Errorf("%w: unknown flags %#x", ErrMalformed, Flag(d.flags)&^knownFlags)
	}
	if d.tag >= g.entries {
		return fmt.Errorf("%w: tag %d out of range (entries %d)", ErrMalformed, d.tag, g.entries)
	}
	if d.status != 0 {
		return fmt.Errorf("%w: command carries status %d", ErrMalformed, d.status)
	}
	if d.off != g.reqOff(d.tag) || d.length > g.chunk {
		return fmt.Errorf("%w: payload [%d, +%d) is not inside tag %d's request chunk [%d, +%d)",
			ErrMalformed, d.off, d.length, d.tag, g.reqOff(d.tag), g.chunk)
	}
	return nil
}

// validCompletion checks a completion descriptor read from the CQ.
func (g *geometry) validCompletion(d *desc) error {
	if d.kind != kindCompletion {
		return fmt.Errorf("%w: kind %d in the completion ring, want %d", ErrMalformed, d.kind, kindCompletion)
	}
	if d.flags != 0 {
		return fmt.Errorf("%w: completion flags %#x, want 0", ErrMalformed, d.flags)
	}
	if d.tag >= g.entries {
		return fmt.Errorf("%w: tag %d out of range (entries %d)", ErrMalformed, d.tag, g.entries)
	}
	if Status(d.status) > maxStatus {
		return fmt.Errorf("%w: unknown status %d", ErrMalformed, d.status)
	}
	if d.off != g.resOff(d.tag) || d.length > g.chunk {
		return fmt.Errorf("%w: result [%d, +%d) is not inside tag %d's result chunk [%d, +%d)",
			ErrMalformed, d.off, d.length, d.tag, g.resOff(d.tag), g.chunk)
	}
	return nil
}
