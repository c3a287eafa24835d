// Package adbtest holds a tiny adbd Handler and helpers for the tests of
// sdk/adb. It is not a simulated phone: it knows a handful of commands.
package adbtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Handler answers:
//
//	echo ARGS…      ARGS joined by spaces, newline
//	true / false    exit 0 / 1
//	exit N          exit N
//	cat             stdin to stdout
//	err TEXT        TEXT to stderr, exit 3
//	big N           N bytes of a pattern (Pattern) to stdout
//	sleep           block until the stream closes
//	wc              count stdin bytes, print the count
//	anything else   "/system/bin/sh: X: not found" on stderr, exit 127
type Handler struct {
	Files    adbd.MemFS
	Reboots  atomic.Int32
	Features []string
}

// pattern is computed once; Pattern hands out read-only prefixes of it.
var pattern = func() []byte {
	b := make([]byte, 4<<20)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}()

// Pattern returns n deterministic bytes. Callers must not modify them
// when n <= 4 MiB (they share one buffer).
func Pattern(n int) []byte {
	if n <= len(pattern) {
		return pattern[:n:n]
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// Banner implements adbd.Handler.
func (h *Handler) Banner() wire.Banner {
	return wire.Banner{Product: "sdk_test", Model: "Test_Phone", Device: "testdev", Features: h.Features}
}

// FS implements adbd.Handler.
func (h *Handler) FS() adbd.FileSystem { return &h.Files }

// Reboot implements adbd.Rebooter.
func (h *Handler) Reboot(context.Context, string) error {
	h.Reboots.Add(1)
	return nil
}

// Shell implements adbd.Handler.
func (h *Handler) Shell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	args := strings.Fields(cmd)
	if len(args) == 0 {
		_, _ = io.WriteString(stderr, "interactive shell not supported\n")
		return 1
	}
	switch args[0] {
	case "echo":
		_, _ = io.WriteString(stdout, strings.Join(args[1:], " ")+"\n")
		return 0
	case "true":
		return 0
	case "false":
		return 1
	case "exit":
		n, _ := strconv.Atoi(arg(args, 1))
		return n
	case "cat":
		_, _ = io.Copy(stdout, stdin)
		return 0
	case "wc":
		n, _ := io.Copy(io.Discard, stdin)
		_, _ = fmt.Fprintln(stdout, n)
		return 0
	case "err":
		_, _ = io.WriteString(stderr, strings.Join(args[1:], " ")+"\n")
		return 3
	case "big":
		n, _ := strconv.Atoi(arg(args, 1))
		_, _ = io.Copy(stdout, bytes.NewReader(Pattern(n)))
		return 0
	case "sleep":
		<-ctx.Done()
		return 0
	}
	_, _ = fmt.Fprintf(stderr, "/system/bin/sh: %s: not found\n", args[0])
	return 127
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}

var _ adbd.Handler = (*Handler)(nil)
var _ adbd.Rebooter = (*Handler)(nil)
