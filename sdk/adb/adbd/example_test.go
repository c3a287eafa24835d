package adbd_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// phone is a device with one command and an in-memory /sdcard.
type phone struct{ files adbd.MemFS }

func (p *phone) Banner() wire.Banner {
	return wire.Banner{Product: "sim", Model: "Sim_Phone", Device: "sim"}
}

func (p *phone) FS() adbd.FileSystem { return &p.files }

func (p *phone) Shell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	if rest, ok := strings.CutPrefix(cmd, "echo "); ok {
		fmt.Fprintln(stdout, rest)
		return 0
	}
	fmt.Fprintf(stderr, "/system/bin/sh: %s: not found\n", cmd)
	return 127
}

// A simulated phone served on a local port, driven by the sdk/adb client
// (`adb connect` and `adb -s ADDR shell echo hi` work the same way).
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &adbd.Server{Handler: &phone{}}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	conn, err := adb.Dial(ctx, ln.Addr().String(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _, code, err := conn.Shell(ctx, "echo hi")
	fmt.Printf("%q %d %v\n", out, code, err)
	_, errOut, code, _ := conn.Shell(ctx, "uptime")
	fmt.Printf("%q %d\n", errOut, code)

	_ = conn.Close()
	cancel()
	<-done
	// Output:
	// "hi\n" 0 <nil>
	// "/system/bin/sh: uptime: not found\n" 127
}
