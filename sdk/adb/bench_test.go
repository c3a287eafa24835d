package adb_test

import (
	"context"
	"os/exec"
	"strconv"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
)

// BenchmarkShellRoundTrip compares one `shell echo hi` round trip on the
// same in-process device three ways: a persistent direct connection
// (sdk/adb Conn), the adb server's smart socket (ServerDevice, one socket
// per call) and spawning the adb binary per command, as Open-AutoGLM does.
// The ratio adb-binary / persistent is what the project reports.
func BenchmarkShellRoundTrip(b *testing.B) {
	h := &adbtest.Handler{}
	addr := startDevice(b, &adbd.Server{Handler: h})
	ctx := context.Background()

	b.Run("persistent", func(b *testing.B) {
		c := dial(b, addr, nil)
		b.ReportAllocs()
		for b.Loop() {
			if out, _, code, err := c.Shell(ctx, "echo hi"); err != nil || code != 0 || string(out) != "hi\n" {
				b.Fatalf("%q %d %v", out, code, err)
			}
		}
	})

	b.Run("persistent-parallel", func(b *testing.B) {
		c := dial(b, addr, nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, _, err := c.Shell(ctx, "echo hi"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})

	if _, err := exec.LookPath("adb"); err != nil {
		b.Log("adb binary not found; skipping the adb server and adb binary cases")
		return
	}
	s := startADB(b)
	s.connect(b, addr, "device")

	b.Run("adb-server", func(b *testing.B) {
		d := s.Client().Device(addr)
		for b.Loop() {
			if out, _, _, err := d.Shell(ctx, "echo hi"); err != nil || string(out) != "hi\n" {
				b.Fatalf("%q %v", out, err)
			}
		}
	})

	b.Run("adb-binary", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(s.Bin, "-P", strconv.Itoa(s.Port), "-s", addr, "shell", "echo", "hi")
			cmd.Env = s.Env
			out, err := cmd.Output()
			if err != nil || string(out) != "hi\n" {
				b.Fatalf("%q %v", out, err)
			}
		}
	})
}

// BenchmarkExecOut3MiB moves a screenshot-sized (3 MiB) exec-out payload
// over a persistent connection and, for comparison, with one adb process
// per call.
func BenchmarkExecOut3MiB(b *testing.B) {
	h := &adbtest.Handler{}
	addr := startDevice(b, &adbd.Server{Handler: h})
	ctx := context.Background()
	const cmd = "big 3145728"
	b.Run("persistent", func(b *testing.B) {
		c := dial(b, addr, nil)
		b.SetBytes(3 << 20)
		for b.Loop() {
			if out, err := c.ExecOut(ctx, cmd); err != nil || len(out) != 3<<20 {
				b.Fatalf("%d %v", len(out), err)
			}
		}
	})
	if _, err := exec.LookPath("adb"); err != nil {
		return
	}
	s := startADB(b)
	s.connect(b, addr, "device")
	b.Run("adb-binary", func(b *testing.B) {
		b.SetBytes(3 << 20)
		for b.Loop() {
			c := exec.Command(s.Bin, "-P", strconv.Itoa(s.Port), "-s", addr, "exec-out", cmd)
			c.Env = s.Env
			out, err := c.Output()
			if err != nil || len(out) != 3<<20 {
				b.Fatalf("%d %v", len(out), err)
			}
		}
	})
}
