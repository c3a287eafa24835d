package procrt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// remoteError is an error a plugin returned, or a transport failure, as a
// gRPC status. It keeps the status (status.Code works on it) and reads as
// the plugin's own message.
type remoteError struct {
	st *status.Status
}

func (e *remoteError) Error() string {
	if e.st.Code() == codes.Unknown {
		return e.st.Message()
	}
	return fmt.Sprintf("%s (%s)", e.st.Message(), e.st.Code())
}

// GRPCStatus lets status.FromError and status.Code see the plugin's status.
func (e *remoteError) GRPCStatus() *status.Status { return e.st }

// wrapRPC converts a gRPC error into one that errors.Is understands:
// deadline and cancellation wrap the context errors, Unimplemented wraps
// errors.ErrUnsupported, anything else keeps its status.
func wrapRPC(ctx context.Context, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	var sentinel error
	switch st.Code() {
	case codes.DeadlineExceeded:
		sentinel = context.DeadlineExceeded
	case codes.Canceled:
		sentinel = context.Canceled
		if c := ctx.Err(); c != nil {
			sentinel = c
		}
	case codes.Unimplemented:
		sentinel = errors.ErrUnsupported
	default:
		return &remoteError{st: st}
	}
	if st.Message() == sentinel.Error() {
		return sentinel
	}
	return fmt.Errorf("%s: %w", st.Message(), sentinel)
}

// isConnLost reports whether err may come from the connection to the plugin
// going away (the process died, or its dead connection was closed), as
// opposed to an error the plugin returned.
func isConnLost(err error) bool {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unavailable:
		return true
	case codes.Canceled:
		return strings.Contains(st.Message(), "client connection is closing")
	}
	return false
}

// always is the retry policy of operations that are safe to repeat.
func always() bool { return true }

// killPid sends SIGKILL to pid, ignoring errors (it may be gone already).
func killPid(pid int) {
	if pid <= 0 {
		return
	}
	if proc, err := os.FindProcess(pid); err == nil {
		_ = proc.Kill()
	}
}
