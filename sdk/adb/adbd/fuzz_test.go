package adbd_test

import (
	"testing"

	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// FuzzServeConn sends arbitrary bytes after a valid handshake. ServeConn
// must return once the host hangs up (so no stream goroutine survives)
// and must never panic.
func FuzzServeConn(f *testing.F) {
	open := wire.AppendHeader(nil, wire.Packet{Command: wire.CmdOPEN, Arg0: 5, Data: []byte("exec:echo x\x00")}, false)
	f.Add(append(open, "exec:echo x\x00"...))
	f.Add(wire.AppendHeader(nil, wire.Packet{Command: wire.CmdCLSE, Arg0: 1, Arg1: 1}, false))
	f.Add([]byte("garbage that is not a packet at all"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fh := newFakeHost(t, &adbtest.Handler{})
		fh.connect()
		_ = fh.raw(in)
		_ = fh.finish()
	})
}

// FuzzSyncService feeds arbitrary bytes to the device's sync: decoder as
// stream data (with proper flow control).
func FuzzSyncService(f *testing.F) {
	send := wire.AppendSyncMsg(nil, wire.SyncSEND, 16, []byte("/sdcard/a,33188"))
	send = wire.AppendSyncMsg(send, wire.SyncDATA, 3, []byte("abc"))
	send = wire.AppendSyncMsg(send, wire.SyncDONE, 1700000000, nil)
	f.Add(send)
	f.Add(wire.AppendSyncMsg(nil, wire.SyncLIS2, 7, []byte("/sdcard")))
	f.Add(wire.AppendSyncMsg(nil, wire.SyncRECV, 9, []byte("/sdcard/a")))
	f.Add(wire.AppendSyncMsg(nil, wire.SyncDATA, 0xffffffff, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := &adbtest.Handler{}
		_ = h.Files.WriteFile("/sdcard/a", []byte("hello"), 0o644)
		fh := newFakeHost(t, h)
		fh.connect()
		if remote := fh.open("sync:"); remote != 0 {
			fh.stream(remote, in, 1000)
		}
		_ = fh.finish()
	})
}

// FuzzShellV2Service feeds arbitrary bytes to the device's shell_v2 frame
// decoder (the host → device direction).
func FuzzShellV2Service(f *testing.F) {
	var b []byte
	b = append(b, 0, 5, 0, 0, 0)
	b = append(b, "hello"...)
	b = append(b, 4, 0, 0, 0, 0)
	f.Add(b)
	f.Add([]byte{5, 3, 0, 0, 0, '2', '4', 'x'})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		fh := newFakeHost(t, &adbtest.Handler{})
		fh.connect()
		if remote := fh.open("shell,v2,raw:cat"); remote != 0 {
			fh.stream(remote, in, 1000)
		}
		_ = fh.finish()
	})
}
