package plugin

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unaryInterceptor turns a panic in a handler into an Internal error and an
// author's plain error into a gRPC status the host can classify.
func unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, panicError(ctx, info.FullMethod, r)
		}
	}()
	resp, err = handler(ctx, req)
	return resp, toStatus(ctx, err)
}

// streamInterceptor is unaryInterceptor for streaming calls (Infer).
func streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx := ss.Context()
	defer func() {
		if r := recover(); r != nil {
			err = panicError(ctx, info.FullMethod, r)
		}
	}()
	return toStatus(ctx, handler(srv, ss))
}

// panicError logs a recovered panic with its stack and returns the error the
// caller receives.
func panicError(ctx context.Context, method string, r any) error {
	Logger().ErrorContext(ctx, "plugin handler panicked",
		"method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	return status.Errorf(codes.Internal, "plugin panicked in %s: %v", method, r)
}

// toStatus maps an author's error to a gRPC status: context errors keep
// their meaning, errors.ErrUnsupported becomes Unimplemented, statuses pass
// through and anything else is Unknown with the error's text.
func toStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, errors.ErrUnsupported):
		return status.Error(codes.Unimplemented, err.Error())
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
