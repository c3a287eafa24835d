package adb_test

import (
	"testing"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
)

func TestRedialer(t *testing.T) {
	checkNoLeaks(t)
	h := &adbtest.Handler{}
	r := adb.NewRedialer(startDevice(t, &adbd.Server{Handler: h}), nil)
	t.Cleanup(func() { _ = r.Close() })
	ctx := ctxT(t)
	var d adb.Device = r
	if out, _, _, err := d.Shell(ctx, "echo one"); err != nil || string(out) != "one\n" {
		t.Fatalf("first: %q %v", out, err)
	}
	c1, _ := r.Conn(ctx)
	// The device drops the connection (reboot); the next call redials.
	if err := d.Reboot(ctx, ""); err != nil {
		t.Fatal(err)
	}
	<-c1.Done()
	if out, _, _, err := d.Shell(ctx, "echo two"); err != nil || string(out) != "two\n" {
		t.Fatalf("after drop: %q %v", out, err)
	}
	if c2, _ := r.Conn(ctx); c2 == c1 {
		t.Fatal("no new connection")
	}
}

func TestDropConnections(t *testing.T) {
	checkNoLeaks(t)
	srv := &adbd.Server{Handler: &adbtest.Handler{}}
	r := adb.NewRedialer(startDevice(t, srv), nil)
	t.Cleanup(func() { _ = r.Close() })
	ctx := ctxT(t)
	c1, err := r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d", n)
	}
	if n := srv.DropConnections(); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	<-c1.Done()
	if out, _, _, err := r.Shell(ctx, "echo back"); err != nil || string(out) != "back\n" {
		t.Fatalf("after drop: %q %v", out, err)
	}
}
