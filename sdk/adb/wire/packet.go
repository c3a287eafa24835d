package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// Command is the first word of an adb packet header, four ASCII letters read
// as a little-endian uint32.
type Command uint32

// The commands of the adb transport protocol.
const (
	CmdSYNC Command = 0x434e5953 // obsolete; ignored
	CmdCNXN Command = 0x4e584e43 // connect: version, maxdata, banner
	CmdAUTH Command = 0x48545541 // authentication: type, 0, payload
	CmdOPEN Command = 0x4e45504f // open a stream: local-id, 0, service
	CmdOKAY Command = 0x59414b4f // stream ready: local-id, remote-id
	CmdCLSE Command = 0x45534c43 // close a stream: local-id, remote-id
	CmdWRTE Command = 0x45545257 // stream data: local-id, remote-id, data
	CmdSTLS Command = 0x534c5453 // TLS upgrade (adb 30+); refused here
)

// String returns the four letters of c, or a hex number for an unknown
// command.
func (c Command) String() string {
	switch c {
	case CmdSYNC, CmdCNXN, CmdAUTH, CmdOPEN, CmdOKAY, CmdCLSE, CmdWRTE, CmdSTLS:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(c))
		return string(b[:])
	}
	return fmt.Sprintf("0x%08x", uint32(c))
}

// Protocol versions and payload limits.
const (
	// VersionMin is the first protocol version; its peers check data
	// checksums.
	VersionMin uint32 = 0x01000000
	// VersionSkipChecksum is the version from which checksums are ignored.
	// It is the version this package speaks.
	VersionSkipChecksum uint32 = 0x01000001
	// MaxPayload is the largest data length this package offers and
	// accepts (1 MiB, as adbd since Android P).
	MaxPayload uint32 = 1024 * 1024
	// MaxPayloadV1 is the payload limit of old peers (4 KiB).
	MaxPayloadV1 uint32 = 4096
	// HeaderSize is the size of a packet header in bytes.
	HeaderSize = 24
)

// AUTH packet types (arg0 of CmdAUTH).
const (
	AuthToken        uint32 = 1 // device → host: 20 random bytes to sign
	AuthSignature    uint32 = 2 // host → device: signature of the token
	AuthRSAPublicKey uint32 = 3 // host → device: public key, NUL-terminated
	// TokenSize is the size of an AUTH token.
	TokenSize = 20
)

// Packet is one adb transport message.
type Packet struct {
	Command Command
	Arg0    uint32
	Arg1    uint32
	Data    []byte
}

// String describes p for logs.
func (p Packet) String() string {
	return fmt.Sprintf("%s(%#x, %#x, %d bytes)", p.Command, p.Arg0, p.Arg1, len(p.Data))
}

// Errors returned by ReadPacket. They are wrapped with context.
var (
	ErrBadMagic    = errors.New("adb: bad packet magic")
	ErrPacketSize  = errors.New("adb: packet data too large")
	ErrBadChecksum = errors.New("adb: bad packet checksum")
)

// Checksum is the byte sum adb peers before VersionSkipChecksum require.
func Checksum(data []byte) uint32 {
	var s uint32
	for _, b := range data {
		s += uint32(b)
	}
	return s
}

// ReadPacket reads one packet from r. It returns an error, never panics, on
// a bad magic, a data length above maxData and a truncated packet
// (io.ErrUnexpectedEOF; io.EOF only when r ends cleanly between packets).
// At most maxData bytes are allocated. When verify is set the checksum is
// checked, as peers older than VersionSkipChecksum expect.
func ReadPacket(r io.Reader, maxData uint32, verify bool) (Packet, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return Packet{}, io.EOF
		}
		return Packet{}, fmt.Errorf("adb: read packet header: %w", err)
	}
	p := Packet{
		Command: Command(binary.LittleEndian.Uint32(h[0:])),
		Arg0:    binary.LittleEndian.Uint32(h[4:]),
		Arg1:    binary.LittleEndian.Uint32(h[8:]),
	}
	n := binary.LittleEndian.Uint32(h[12:])
	sum := binary.LittleEndian.Uint32(h[16:])
	magic := binary.LittleEndian.Uint32(h[20:])
	if magic != uint32(p.Command)^0xffffffff {
		return Packet{}, fmt.Errorf("%w: command %s, magic %#08x", ErrBadMagic, p.Command, magic)
	}
	if n > maxData {
		return Packet{}, fmt.Errorf("%w: %s carries %d bytes, limit %d", ErrPacketSize, p.Command, n, maxData)
	}
	if n > 0 {
		p.Data = make([]byte, n)
		if _, err := io.ReadFull(r, p.Data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Packet{}, fmt.Errorf("adb: read %s data: %w", p.Command, err)
		}
	}
	if verify && Checksum(p.Data) != sum {
		return Packet{}, fmt.Errorf("%w: %s", ErrBadChecksum, p.Command)
	}
	return p, nil
}

// AppendHeader appends the 24-byte header of p to b. The checksum field is
// filled when checksum is set, and zero otherwise.
func AppendHeader(b []byte, p Packet, checksum bool) []byte {
	var sum uint32
	if checksum {
		sum = Checksum(p.Data)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(p.Command))
	b = binary.LittleEndian.AppendUint32(b, p.Arg0)
	b = binary.LittleEndian.AppendUint32(b, p.Arg1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.Data)))
	b = binary.LittleEndian.AppendUint32(b, sum)
	return binary.LittleEndian.AppendUint32(b, uint32(p.Command)^0xffffffff)
}

// WritePacket writes p to w as one write where w allows (small packets are
// copied into one buffer; large ones use net.Buffers, a writev on sockets).
func WritePacket(w io.Writer, p Packet, checksum bool) error {
	if uint64(len(p.Data)) > 0xffffffff {
		return fmt.Errorf("%w: %d bytes", ErrPacketSize, len(p.Data))
	}
	var err error
	if len(p.Data) <= 4096 {
		b := make([]byte, 0, HeaderSize+len(p.Data))
		b = AppendHeader(b, p, checksum)
		b = append(b, p.Data...)
		_, err = w.Write(b)
	} else {
		bufs := net.Buffers{AppendHeader(make([]byte, 0, HeaderSize), p, checksum), p.Data}
		_, err = bufs.WriteTo(w)
	}
	if err != nil {
		return fmt.Errorf("adb: write %s: %w", p.Command, err)
	}
	return nil
}
