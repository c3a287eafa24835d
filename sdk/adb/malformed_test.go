package adb_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// fakeDevice accepts one connection and runs script on it: a hostile or
// broken adbd for client tests.
func fakeDevice(t *testing.T, script func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { _ = c.Close() }()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		script(c)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func send(c net.Conn, cmd wire.Command, a0, a1 uint32, data []byte) {
	_ = wire.WritePacket(c, wire.Packet{Command: cmd, Arg0: a0, Arg1: a1, Data: data}, false)
}

// accept reads the host's CNXN and answers it.
func accept(c net.Conn) bool {
	if p, err := wire.ReadPacket(c, wire.MaxPayload, false); err != nil || p.Command != wire.CmdCNXN {
		return false
	}
	send(c, wire.CmdCNXN, wire.VersionSkipChecksum, 4096, []byte("device::features=shell_v2,stat_v2"))
	return true
}

// waitClosed reads until the client hangs up.
func waitClosed(c net.Conn) {
	for {
		if _, err := wire.ReadPacket(c, wire.MaxPayload, false); err != nil {
			return
		}
	}
}

func TestClientGarbageAfterHandshake(t *testing.T) {
	checkNoLeaks(t)
	addr := fakeDevice(t, func(c net.Conn) {
		if accept(c) {
			_, _ = c.Write([]byte("this is not an adb packet header"))
			waitClosed(c)
		}
	})
	c := dial(t, addr, nil)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection survived a garbage packet")
	}
	if _, _, _, err := c.Shell(ctxT(t), "echo hi"); err == nil {
		t.Fatal("shell on a dead connection succeeded")
	}
	if err := c.Close(); !errors.Is(err, wire.ErrBadMagic) {
		t.Fatalf("Close = %v, want the bad magic error", err)
	}
}

func TestClientOversizedHandshake(t *testing.T) {
	addr := fakeDevice(t, func(c net.Conn) {
		if _, err := wire.ReadPacket(c, wire.MaxPayload, false); err != nil {
			return
		}
		h := wire.AppendHeader(nil, wire.Packet{Command: wire.CmdCNXN}, false)
		h[14] = 0x40 // 4 MiB of claimed data
		_, _ = c.Write(h)
		waitClosed(c)
	})
	_, err := adb.Dial(ctxT(t), addr, nil)
	if !errors.Is(err, wire.ErrPacketSize) {
		t.Fatalf("Dial = %v, want ErrPacketSize", err)
	}
}

func TestClientSilentDevice(t *testing.T) {
	addr := fakeDevice(t, waitClosed)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := adb.Dial(ctx, addr, nil); err == nil {
		t.Fatal("Dial to a silent device succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Dial took %v", d)
	}
}

func TestClientBadShellFrames(t *testing.T) {
	checkNoLeaks(t)
	addr := fakeDevice(t, func(c net.Conn) {
		if !accept(c) {
			return
		}
		// Device-initiated OPEN: the client must refuse it.
		send(c, wire.CmdOPEN, 99, 0, []byte("shell:evil\x00"))
		for {
			p, err := wire.ReadPacket(c, wire.MaxPayload, false)
			if err != nil {
				return
			}
			switch p.Command {
			case wire.CmdOPEN:
				send(c, wire.CmdOKAY, 7, p.Arg0, nil)
				// A stdout frame claiming 4 GiB, then the stream ends.
				send(c, wire.CmdWRTE, 7, p.Arg0, []byte{1, 0xff, 0xff, 0xff, 0xff, 'x'})
				send(c, wire.CmdCLSE, 7, p.Arg0, nil)
			case wire.CmdWRTE:
				send(c, wire.CmdOKAY, 7, p.Arg0, nil)
			}
		}
	})
	c := dial(t, addr, nil)
	_, _, _, err := c.Shell(ctxT(t), "anything")
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Shell = %v, want an unexpected EOF", err)
	}
	// The connection itself is still fine.
	select {
	case <-c.Done():
		t.Fatal("connection closed by a bad stream")
	default:
	}
}
