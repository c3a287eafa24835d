// Command ringworker is the child process of core/ring's tests and
// benchmarks: a ring consumer that opens a shared-memory ring and answers
// every command, or (with -grpc) a minimal gRPC server on a unix socket,
// the go-plugin-style baseline the ring is measured against.
//
// It prints "ready" on stdout once it is attached (or listening), and
// exits when the ring closes, on SIGTERM, or when its stdin closes (so it
// never outlives the test that started it).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func main() {
	path := flag.String("ring", "", "shared-memory ring to consume")
	wait := flag.String("wait", "poll", "poll, sleep or adaptive")
	op := flag.String("op", "upper", "upper (uppercase the payload), sha256, or empty (no result; \"requeued\" for a re-offered command)")
	batch := flag.Int("batch", 64, "commands fetched and completed at once")
	delay := flag.Duration("delay", 0, "pause after each fetched batch (to be killed mid-batch)")
	sock := flag.String("grpc", "", "serve the gRPC baseline on this unix socket instead")
	flag.Parse()

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }()

	var err error
	if *sock != "" {
		err = serveGRPC(ctx, *sock)
	} else {
		err = consume(ctx, *path, *wait, *op, *batch, *delay)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ring.ErrClosed) {
		fmt.Fprintln(os.Stderr, "ringworker:", err)
		os.Exit(1)
	}
}

func consume(ctx context.Context, path, wait, op string, batch int, delay time.Duration) error {
	mode, err := ring.ParseWaitMode(wait)
	if err != nil {
		return err
	}
	r, err := ring.Open(path, ring.Options{Wait: mode, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ready")
	cmds := make([]ring.Command, batch)
	comps := make([]ring.Completion, 0, batch)
	for {
		n, err := r.Fetch(ctx, cmds)
		if err != nil {
			return err
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		comps = comps[:0]
		for _, c := range cmds[:n] {
			out := r.ResultBuffer(c)
			switch op {
			case "upper":
				out = out[:len(c.Payload)]
				for i, b := range c.Payload {
					if 'a' <= b && b <= 'z' {
						b -= 'a' - 'A'
					}
					out[i] = b
				}
			case "sha256":
				sum := sha256.Sum256(c.Payload)
				out = out[:copy(out, sum[:])]
			default:
				out = nil
			}
			if c.Flags&ring.FlagRequeued != 0 && op == "empty" {
				out = append(r.ResultBuffer(c)[:0], "requeued"...)
			}
			comps = append(comps, c.Reply(ring.StatusOK, out))
		}
		if err := r.Complete(comps...); err != nil {
			return err
		}
	}
}

// echoServer is the gRPC baseline's one unary method: uppercase bytes.
type echoServer interface{}

func upperHandler(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	return wrapperspb.Bytes(bytes.ToUpper(in.Value)), nil
}

// EchoDesc is the baseline service: /ringbench.Echo/Upper.
var EchoDesc = grpc.ServiceDesc{
	ServiceName: "ringbench.Echo",
	HandlerType: (*echoServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Upper", Handler: upperHandler}},
}

func serveGRPC(ctx context.Context, sock string) error {
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen %s: %w", sock, err)
	}
	s := grpc.NewServer()
	s.RegisterService(&EchoDesc, struct{}{})
	go func() { <-ctx.Done(); s.Stop() }()
	fmt.Println("ready")
	return s.Serve(l)
}
