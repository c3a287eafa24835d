package adb_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// startDevice serves srv on a fresh 127.0.0.1 port until the test ends.
func startDevice(t testing.TB, srv *adbd.Server) string {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func dial(t testing.TB, addr string, opts *adb.DialOptions) *adb.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := adb.Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newDevice(t testing.TB) (*adbtest.Handler, *adb.Conn) {
	h := &adbtest.Handler{}
	addr := startDevice(t, &adbd.Server{Handler: h})
	return h, dial(t, addr, nil)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkNoLeaks fails if goroutines started during the test outlive it.
func checkNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestShellV2(t *testing.T) {
	checkNoLeaks(t)
	_, c := newDevice(t)
	ctx := ctxT(t)
	if b := c.Banner(); b.Model != "Test_Phone" || !b.Has(wire.FeatureShell2) {
		t.Fatalf("banner %+v", b)
	}
	for _, tc := range []struct {
		cmd            string
		stdout, stderr string
		exit           int
	}{
		{"echo hi there", "hi there\n", "", 0},
		{"true", "", "", 0},
		{"false", "", "", 1},
		{"exit 42", "", "", 42},
		{"err oops", "", "oops\n", 3},
		{"nosuch", "", "/system/bin/sh: nosuch: not found\n", 127},
	} {
		out, errb, code, err := c.Shell(ctx, tc.cmd)
		if err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		if string(out) != tc.stdout || string(errb) != tc.stderr || code != tc.exit {
			t.Errorf("%s: got %q %q %d, want %q %q %d", tc.cmd, out, errb, code, tc.stdout, tc.stderr, tc.exit)
		}
	}
}

func TestShellStdin(t *testing.T) {
	_, c := newDevice(t)
	ctx := ctxT(t)
	in := adbtest.Pattern(1<<20 + 17)
	var out bytes.Buffer
	code, err := c.RunShell(ctx, "cat", bytes.NewReader(in), &out, nil)
	if err != nil || code != 0 {
		t.Fatalf("cat: %d %v", code, err)
	}
	if !bytes.Equal(out.Bytes(), in) {
		t.Fatalf("cat returned %d bytes, want %d identical", out.Len(), len(in))
	}
	out.Reset()
	if _, err := c.RunShell(ctx, "wc", strings.NewReader("12345"), &out, nil); err != nil || out.String() != "5\n" {
		t.Fatalf("wc: %q %v", out.String(), err)
	}
}

func TestShellV1AndStatV1(t *testing.T) {
	h := &adbtest.Handler{Features: []string{"cmd"}}
	c := dial(t, startDevice(t, &adbd.Server{Handler: h}), nil)
	ctx := ctxT(t)
	out, _, code, err := c.Shell(ctx, "err merged")
	if err != nil || code != 0 || string(out) != "merged\n" {
		t.Fatalf("v1 shell: %q %d %v", out, code, err)
	}
	if err := h.Files.WriteFile("/sdcard/a.txt", []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := c.Stat(ctx, "/sdcard/a.txt")
	if err != nil || fi.Size != 3 || !fi.Mode.IsRegular() {
		t.Fatalf("stat v1: %+v %v", fi, err)
	}
	if _, err := c.Stat(ctx, "/sdcard/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat v1 missing: %v", err)
	}
	ents, err := c.List(ctx, "/sdcard")
	if err != nil || len(ents) != 1 || ents[0].Name != "a.txt" || ents[0].Size != 3 {
		t.Fatalf("list v1: %+v %v", ents, err)
	}
}

func TestBigOutput(t *testing.T) {
	_, c := newDevice(t)
	ctx := ctxT(t)
	const n = 3 << 20
	out, _, code, err := c.Shell(ctx, fmt.Sprintf("big %d", n))
	if err != nil || code != 0 || !bytes.Equal(out, adbtest.Pattern(n)) {
		t.Fatalf("shell big: %d bytes, code %d, err %v", len(out), code, err)
	}
	out, err = c.ExecOut(ctx, fmt.Sprintf("big %d", n))
	if err != nil || !bytes.Equal(out, adbtest.Pattern(n)) {
		t.Fatalf("exec big: %d bytes, err %v", len(out), err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	checkNoLeaks(t)
	_, c := newDevice(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 50 {
		wg.Go(func() {
			want := fmt.Sprintf("stream %d\n", i)
			out, _, code, err := c.Shell(ctx, fmt.Sprintf("echo stream %d", i))
			if err != nil || code != 0 || string(out) != want {
				errs <- fmt.Errorf("shell %d: %q %d %v", i, out, code, err)
			}
			big, err := c.ExecOut(ctx, fmt.Sprintf("big %d", 100_000+i))
			if err != nil || !bytes.Equal(big, adbtest.Pattern(100_000+i)) {
				errs <- fmt.Errorf("exec %d: %d bytes %v", i, len(big), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPushPullStatList(t *testing.T) {
	h, c := newDevice(t)
	ctx := ctxT(t)
	data := adbtest.Pattern(3 << 20)
	mtime := time.Unix(1700000000, 0)
	if err := c.Push(ctx, bytes.NewReader(data), "/sdcard/Download/big.bin", 0o640, mtime); err != nil {
		t.Fatal(err)
	}
	if got, err := h.Files.ReadFile("/sdcard/Download/big.bin"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("device copy differs: %d bytes, %v", len(got), err)
	}
	fi, err := c.Stat(ctx, "/sdcard/Download/big.bin")
	if err != nil || fi.Size != int64(len(data)) || fi.Mode.Perm() != 0o640 || !fi.ModTime.Equal(mtime) {
		t.Fatalf("stat: %+v %v", fi, err)
	}
	if fi, err := c.Stat(ctx, "/sdcard/Download"); err != nil || !fi.IsDir() {
		t.Fatalf("stat dir: %+v %v", fi, err)
	}
	if _, err := c.Stat(ctx, "/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat missing: %v", err)
	}
	var got bytes.Buffer
	if err := c.Pull(ctx, "/sdcard/Download/big.bin", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("pull: %d bytes, %v", got.Len(), err)
	}
	if err := c.Pull(ctx, "/sdcard/none", &got); err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Fatalf("pull missing: %v", err)
	}
	ents, err := c.List(ctx, "/sdcard")
	if err != nil || len(ents) != 1 || ents[0].Name != "Download" || !ents[0].IsDir() {
		t.Fatalf("list: %+v %v", ents, err)
	}
	// Pushing onto a directory fails with the device's message.
	if err := c.Push(ctx, strings.NewReader("x"), "/sdcard/Download", 0o644, mtime); err == nil {
		t.Fatal("push onto a directory succeeded")
	}
	// The connection still works after a failed transfer.
	if out, _, _, err := c.Shell(ctx, "echo ok"); err != nil || string(out) != "ok\n" {
		t.Fatalf("after failure: %q %v", out, err)
	}
}

func TestRefusedAndCancel(t *testing.T) {
	checkNoLeaks(t)
	_, c := newDevice(t)
	ctx := ctxT(t)
	if _, err := c.OpenStream(ctx, "bogus:"); !errors.Is(err, adb.ErrRefused) {
		t.Fatalf("bogus service: %v", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, _, err := c.Shell(sctx, "sleep"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep: %v", err)
	}
	if out, _, _, err := c.Shell(ctx, "echo still"); err != nil || string(out) != "still\n" {
		t.Fatalf("after cancel: %q %v", out, err)
	}
}

func TestReboot(t *testing.T) {
	h, c := newDevice(t)
	if err := c.Reboot(ctxT(t), ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection not dropped after reboot")
	}
	if h.Reboots.Load() != 1 {
		t.Fatalf("reboots = %d", h.Reboots.Load())
	}
	if _, _, _, err := c.Shell(ctxT(t), "true"); err == nil {
		t.Fatal("shell after reboot succeeded")
	}
}

func TestCloseTearsDown(t *testing.T) {
	checkNoLeaks(t)
	_, c := newDevice(t)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { _, _, _, _ = c.Shell(ctx, "sleep") })
	}
	time.Sleep(50 * time.Millisecond)
	_ = c.Close()
	wg.Wait()
}

func keys(t testing.TB, n int) []*rsa.PrivateKey {
	t.Helper()
	var out []*rsa.PrivateKey
	for range n {
		k, err := adb.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func TestAuth(t *testing.T) {
	checkNoLeaks(t)
	ks := keys(t, 3)
	good, bad, fresh := ks[0], ks[1], ks[2]
	auth := adbd.NewAuth(&good.PublicKey)
	addr := startDevice(t, &adbd.Server{Handler: &adbtest.Handler{}, Auth: auth})
	ctx := ctxT(t)

	// The right key, after a wrong one.
	c := dial(t, addr, &adb.DialOptions{Keys: []*rsa.PrivateKey{bad, good}})
	if out, _, _, err := c.Shell(ctx, "echo authed"); err != nil || string(out) != "authed\n" {
		t.Fatalf("shell: %q %v", out, err)
	}
	// No key at all.
	if _, err := adb.Dial(ctx, addr, nil); !errors.Is(err, adb.ErrAuthRequired) {
		t.Fatalf("no key: %v", err)
	}
	// A wrong key, public key offered, nobody confirms.
	_, err := adb.Dial(ctx, addr, &adb.DialOptions{Keys: []*rsa.PrivateKey{bad}, AuthTimeout: 200 * time.Millisecond})
	if !errors.Is(err, adb.ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
	// Wrong key, public key not offered.
	_, err = adb.Dial(ctx, addr, &adb.DialOptions{Keys: []*rsa.PrivateKey{bad}, NoPublicKey: true})
	if !errors.Is(err, adb.ErrUnauthorized) {
		t.Fatalf("wrong key, no public key: %v", err)
	}
	// "Always allow": the device accepts the offered key, then knows it.
	var asked sync.WaitGroup
	asked.Add(1)
	auth.Confirm = func(_ context.Context, k *rsa.PublicKey, comment string) bool {
		defer asked.Done()
		return k.Equal(&fresh.PublicKey) && comment == "tester@box"
	}
	dial(t, addr, &adb.DialOptions{Keys: []*rsa.PrivateKey{fresh}, KeyComment: "tester@box"})
	asked.Wait()
	auth.Confirm = nil
	dial(t, addr, &adb.DialOptions{Keys: []*rsa.PrivateKey{fresh}, NoPublicKey: true})
}

func TestSmallPayloads(t *testing.T) {
	// An old-style 4 KiB payload limit on either side: everything is split
	// into many WRTEs, each waiting for its OKAY.
	for _, tc := range []struct {
		name        string
		dev, client uint32
	}{{"device 4K", 4096, 0}, {"client 4K", 0, 4096}} {
		t.Run(tc.name, func(t *testing.T) {
			h := &adbtest.Handler{}
			c := dial(t, startDevice(t, &adbd.Server{Handler: h, MaxData: tc.dev}), &adb.DialOptions{MaxData: tc.client})
			ctx := ctxT(t)
			data := adbtest.Pattern(1 << 20)
			if err := c.Push(ctx, bytes.NewReader(data), "/sdcard/p", 0o644, time.Time{}); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := c.Pull(ctx, "/sdcard/p", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
				t.Fatalf("pull: %d %v", got.Len(), err)
			}
			out, _, code, err := c.Shell(ctx, "big 300000")
			if err != nil || code != 0 || !bytes.Equal(out, adbtest.Pattern(300000)) {
				t.Fatalf("shell: %d %d %v", len(out), code, err)
			}
		})
	}
}

func TestManyDevicesInParallel(t *testing.T) {
	checkNoLeaks(t)
	ctx := ctxT(t)
	const devices, streams = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, devices*streams)
	for d := range devices {
		h := &adbtest.Handler{}
		c := dial(t, startDevice(t, &adbd.Server{Handler: h}), nil)
		for s := range streams {
			wg.Go(func() {
				name := fmt.Sprintf("/sdcard/%d-%d", d, s)
				data := adbtest.Pattern(64<<10 + s)
				if err := c.Push(ctx, bytes.NewReader(data), name, 0o644, time.Time{}); err != nil {
					errs <- err
					return
				}
				var got bytes.Buffer
				if err := c.Pull(ctx, name, &got); err != nil || !bytes.Equal(got.Bytes(), data) {
					errs <- fmt.Errorf("pull %s: %d bytes, %v", name, got.Len(), err)
				}
				if out, _, code, err := c.Shell(ctx, "exit "+fmt.Sprint(s)); err != nil || code != s || len(out) != 0 {
					errs <- fmt.Errorf("shell on %d: %d %v", d, code, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
