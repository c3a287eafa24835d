package adbd_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// fakeHost drives ServeConn over net.Pipe with hand-made packets, so tests
// and fuzzers can send what a real client never would.
type fakeHost struct {
	t      testing.TB
	c      net.Conn
	old    bool
	wmu    sync.Mutex
	served chan error
	pkts   chan wire.Packet // packets other than acknowledged WRTEs
	data   []byte           // WRTE payloads received
	dmu    sync.Mutex
}

func newFakeHost(t testing.TB, h adbd.Handler) *fakeHost {
	return newFakeHostOld(t, h, false)
}

// newFakeHostOld returns a fake host that, when old is set, checksums and
// verifies every packet like a host before version 0x01000001.
func newFakeHostOld(t testing.TB, h adbd.Handler, old bool) *fakeHost {
	t.Helper()
	srvConn, hostConn := net.Pipe()
	fh := &fakeHost{t: t, c: hostConn, old: old, served: make(chan error, 1), pkts: make(chan wire.Packet, 64)}
	srv := &adbd.Server{Handler: h, MaxData: 4096}
	go func() { fh.served <- srv.ServeConn(context.Background(), srvConn) }()
	go fh.readLoop()
	return fh
}

func (fh *fakeHost) readLoop() {
	defer close(fh.pkts)
	for {
		p, err := wire.ReadPacket(fh.c, wire.MaxPayload, fh.old)
		if err != nil {
			return
		}
		if p.Command == wire.CmdWRTE {
			fh.dmu.Lock()
			fh.data = append(fh.data, p.Data...)
			fh.dmu.Unlock()
			if fh.send(wire.CmdOKAY, p.Arg1, p.Arg0, nil) != nil {
				return
			}
			continue
		}
		select {
		case fh.pkts <- p:
		default: // nobody waits; drop
		}
	}
}

func (fh *fakeHost) send(cmd wire.Command, a0, a1 uint32, data []byte) error {
	fh.wmu.Lock()
	defer fh.wmu.Unlock()
	_ = fh.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return wire.WritePacket(fh.c, wire.Packet{Command: cmd, Arg0: a0, Arg1: a1, Data: data}, fh.old)
}

func (fh *fakeHost) raw(b []byte) error {
	fh.wmu.Lock()
	defer fh.wmu.Unlock()
	_ = fh.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := fh.c.Write(b)
	return err
}

// next waits for a packet of one of the given commands.
func (fh *fakeHost) next(cmds ...wire.Command) (wire.Packet, bool) {
	timeout := time.After(5 * time.Second)
	for {
		select {
		case p, ok := <-fh.pkts:
			if !ok {
				return wire.Packet{}, false
			}
			for _, c := range cmds {
				if p.Command == c {
					return p, true
				}
			}
		case <-timeout:
			fh.t.Fatalf("no %v within 5s", cmds)
			return wire.Packet{}, false
		}
	}
}

func (fh *fakeHost) connect() {
	fh.t.Helper()
	if err := fh.send(wire.CmdCNXN, wire.VersionSkipChecksum, wire.MaxPayload, []byte("host::")); err != nil {
		fh.t.Fatal(err)
	}
	p, ok := fh.next(wire.CmdCNXN)
	if !ok || p.Arg1 != 4096 {
		fh.t.Fatalf("no CNXN reply: %v", p)
	}
}

// open opens service as local id 1 and returns the device's id (0 when
// refused or the connection died).
func (fh *fakeHost) open(service string) uint32 {
	if fh.send(wire.CmdOPEN, 1, 0, append([]byte(service), 0)) != nil {
		return 0
	}
	p, ok := fh.next(wire.CmdOKAY, wire.CmdCLSE)
	if !ok || p.Command != wire.CmdOKAY {
		return 0
	}
	return p.Arg0
}

// stream sends payload on the stream in chunks, each after the device's
// OKAY, and stops early when the device closes the stream.
func (fh *fakeHost) stream(remote uint32, payload []byte, chunk int) {
	for len(payload) > 0 {
		n := min(len(payload), chunk)
		if fh.send(wire.CmdWRTE, 1, remote, payload[:n]) != nil {
			return
		}
		payload = payload[n:]
		if p, ok := fh.next(wire.CmdOKAY, wire.CmdCLSE); !ok || p.Command == wire.CmdCLSE {
			return
		}
	}
}

// finish closes the host side and requires ServeConn to return promptly,
// which it does only after every stream goroutine has ended.
func (fh *fakeHost) finish() error {
	_ = fh.c.Close()
	select {
	case err := <-fh.served:
		return err
	case <-time.After(5 * time.Second):
		fh.t.Fatal("ServeConn did not return after the host closed")
		return nil
	}
}

func (fh *fakeHost) received() []byte {
	fh.dmu.Lock()
	defer fh.dmu.Unlock()
	return append([]byte(nil), fh.data...)
}

func TestMalformedPackets(t *testing.T) {
	header := func(cmd wire.Command, n uint32, magic uint32) []byte {
		b := wire.AppendHeader(nil, wire.Packet{Command: cmd}, false)
		b[12], b[13], b[14], b[15] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		b[20], b[21], b[22], b[23] = byte(magic), byte(magic>>8), byte(magic>>16), byte(magic>>24)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"bad magic", header(wire.CmdWRTE, 0, 0x12345678), wire.ErrBadMagic},
		{"oversized", header(wire.CmdWRTE, 4097, uint32(wire.CmdWRTE)^0xffffffff), wire.ErrPacketSize},
		{"huge", header(wire.CmdWRTE, 0xffffffff, uint32(wire.CmdWRTE)^0xffffffff), wire.ErrPacketSize},
		{"truncated", append(header(wire.CmdWRTE, 100, uint32(wire.CmdWRTE)^0xffffffff), "short"...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fh := newFakeHost(t, &adbtest.Handler{})
			fh.connect()
			remote := fh.open("shell,v2,raw:sleep")
			if remote == 0 {
				t.Fatal("open refused")
			}
			_ = fh.raw(tc.in)
			if tc.want == nil {
				_ = fh.c.Close()
			}
			select {
			case err := <-fh.served:
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("ServeConn = %v, want %v", err, tc.want)
				}
				if tc.want == nil && err == nil {
					t.Fatal("truncated packet: ServeConn returned nil")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("ServeConn still running after a malformed packet")
			}
			_ = fh.c.Close()
		})
	}
}

func TestRefuseAndStreamIDs(t *testing.T) {
	fh := newFakeHost(t, &adbtest.Handler{})
	fh.connect()
	if fh.open("jdwp:1") != 0 {
		t.Fatal("unknown service accepted")
	}
	// Packets for unknown streams are ignored, not fatal.
	_ = fh.send(wire.CmdWRTE, 9, 77, []byte("x"))
	_ = fh.send(wire.CmdOKAY, 9, 78, nil)
	_ = fh.send(wire.CmdCLSE, 9, 79, nil)
	_ = fh.send(wire.CmdSTLS, 1, 0, nil)
	remote := fh.open("exec:echo ok")
	if remote == 0 {
		t.Fatal("exec refused")
	}
	if _, ok := fh.next(wire.CmdCLSE); !ok {
		t.Fatal("no CLSE after exec")
	}
	if got := string(fh.received()); got != "ok\n" {
		t.Fatalf("exec output %q", got)
	}
	if err := fh.finish(); err != nil {
		t.Fatalf("clean close: %v", err)
	}
}

func TestFlowControlViolation(t *testing.T) {
	fh := newFakeHost(t, &adbtest.Handler{})
	fh.connect()
	remote := fh.open("shell,v2,raw:sleep")
	// Twenty WRTEs without waiting for OKAY: the device closes the stream
	// rather than buffer without bound.
	for range 20 {
		_ = fh.send(wire.CmdWRTE, 1, remote, make([]byte, 4096))
	}
	if _, ok := fh.next(wire.CmdCLSE); !ok {
		t.Fatal("no CLSE after flow control violation")
	}
	_ = fh.finish()
}

func TestOldPeerChecksums(t *testing.T) {
	// A pre-2017 host (version 0x01000000): the device must checksum what
	// it sends and verifies what it receives. The fake host verifies every
	// packet, so a missing checksum ends its read loop and fails the test.
	fh := newFakeHostOld(t, &adbtest.Handler{}, true)
	if err := fh.send(wire.CmdCNXN, wire.VersionMin, 4096, []byte("host::")); err != nil {
		t.Fatal(err)
	}
	if p, ok := fh.next(wire.CmdCNXN); !ok || p.Arg0 != wire.VersionMin {
		t.Fatalf("CNXN reply %v", p)
	}
	if fh.open("exec:big 20000") == 0 {
		t.Fatal("exec refused")
	}
	if _, ok := fh.next(wire.CmdCLSE); !ok {
		t.Fatal("no CLSE")
	}
	if got := fh.received(); !bytes.Equal(got, adbtest.Pattern(20000)) {
		t.Fatalf("got %d bytes", len(got))
	}
	// A packet with a wrong checksum ends the connection.
	b := wire.AppendHeader(nil, wire.Packet{Command: wire.CmdOKAY, Arg0: 1, Arg1: 1, Data: []byte("x")}, true)
	b[16]++
	_ = fh.raw(append(b, 'x'))
	select {
	case err := <-fh.served:
		if !errors.Is(err, wire.ErrBadChecksum) {
			t.Fatalf("ServeConn = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("bad checksum accepted")
	}
	_ = fh.c.Close()
}
