package adb_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/realadb"

	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/internal/adbtest"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// connect runs `adb connect` and waits until the device reaches want. It
// returns adb's message.
func (s *adbServer) connect(t testing.TB, serial, want string) string {
	t.Helper()
	msg, _ := s.Run(t, "connect", serial)
	out := msg
	// adb 29 exits 0 either way. "failed to authenticate" means its
	// signatures were rejected and it offered its public key; the device
	// may still accept it (the "Allow USB debugging?" prompt).
	if !strings.Contains(out, "connected to "+serial) && !strings.Contains(out, "failed to authenticate to "+serial) {
		t.Fatalf("adb connect: %q", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ = s.Run(t, "devices")
		if strings.Contains(out, serial+"\t"+want) {
			return msg
		}
		if time.Now().After(deadline) {
			t.Fatalf("adb devices never showed %s as %s:\n%s", serial, want, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func realDevice(t *testing.T, srv *adbd.Server) (*adbServer, string) {
	s := startADB(t)
	serial := startDevice(t, srv)
	return s, serial
}

func checkRealADB(t *testing.T, s *adbServer, serial string, h *adbtest.Handler) {
	t.Helper()
	if out, code := s.Run(t, "-s", serial, "shell", "echo", "hi"); code != 0 || out != "hi\n" {
		t.Fatalf("shell echo: %d %q", code, out)
	}
	if out, code := s.Run(t, "-s", serial, "shell", "false"); code != 1 || out != "" {
		t.Fatalf("shell false: %d %q", code, out)
	}
	if out, code := s.Run(t, "-s", serial, "shell", "nosuch"); code != 127 || !strings.Contains(out, "nosuch: not found") {
		t.Fatalf("shell nosuch: %d %q", code, out)
	}
	if out, code := s.Run(t, "-s", serial, "exec-out", "big 100000"); code != 0 || out != string(adbtest.Pattern(100000)) {
		t.Fatalf("exec-out: %d, %d bytes", code, len(out))
	}
	dir := t.TempDir()
	data := adbtest.Pattern(3 << 20)
	local := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := s.Run(t, "-s", serial, "push", local, "/sdcard/Download/x.bin"); code != 0 {
		t.Fatalf("push: %d %s", code, out)
	}
	if got, err := h.Files.ReadFile("/sdcard/Download/x.bin"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pushed file differs: %d bytes %v", len(got), err)
	}
	back := filepath.Join(dir, "out.bin")
	if out, code := s.Run(t, "-s", serial, "pull", "/sdcard/Download/x.bin", back); code != 0 {
		t.Fatalf("pull: %d %s", code, out)
	}
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pulled file differs: %d bytes %v", len(got), err)
	}
	// Push into a directory: adb stats the target (stat_v2) and appends
	// the file name.
	if out, code := s.Run(t, "-s", serial, "push", local, "/sdcard/Download/"); code != 0 {
		t.Fatalf("push to dir: %d %s", code, out)
	}
	if _, err := h.Files.ReadFile("/sdcard/Download/in.bin"); err != nil {
		t.Fatalf("push to dir: %v", err)
	}
	if out, code := s.Run(t, "-s", serial, "pull", "/sdcard/missing", back); code == 0 || !strings.Contains(out, "No such file") {
		t.Fatalf("pull missing: %d %q", code, out)
	}
	if out, code := s.Run(t, "-s", serial, "ls", "/sdcard/Download"); code != 0 || !strings.Contains(out, "x.bin") {
		t.Fatalf("ls: %d %q", code, out)
	}
	// Whole directories both ways (LIS2 + RECV, SEND with mkdir).
	pulled := filepath.Join(dir, "pulled")
	if out, code := s.Run(t, "-s", serial, "pull", "/sdcard/Download", pulled); code != 0 {
		t.Fatalf("pull dir: %d %s", code, out)
	}
	if got, err := os.ReadFile(filepath.Join(pulled, "x.bin")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("pulled dir file differs: %d bytes %v", len(got), err)
	}
	if out, code := s.Run(t, "-s", serial, "push", pulled, "/sdcard/copy"); code != 0 {
		t.Fatalf("push dir: %d %s", code, out)
	}
	if _, err := h.Files.ReadFile("/sdcard/copy/in.bin"); err != nil {
		t.Fatalf("push dir: %v", err)
	}
	// A forced PTY: output comes back with terminal line endings.
	if out, code := s.Run(t, "-s", serial, "shell", "-t", "-t", "echo", "tty"); code != 0 || out != "tty\r\n" {
		t.Fatalf("shell -t -t: %d %q", code, out)
	}
}

func TestRealADBNoAuth(t *testing.T) {
	h := &adbtest.Handler{}
	s, serial := realDevice(t, &adbd.Server{Handler: h})
	if msg := s.connect(t, serial, "device"); !strings.HasPrefix(msg, "connected to ") {
		t.Fatalf("adb connect: %q", msg)
	}
	out, _ := s.Run(t, "devices", "-l")
	if !strings.Contains(out, "product:sdk_test model:Test_Phone device:testdev") {
		t.Fatalf("devices -l: %q", out)
	}
	checkRealADB(t, s, serial, h)

	// `adb shell` without a command, commands on a pipe.
	cmd := exec.Command(s.Bin, "-P", strconv.Itoa(s.Port), "-s", serial, "shell")
	cmd.Env = s.Env
	cmd.Stdin = strings.NewReader("echo one\nfalse\n")
	piped, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(piped) != "one\n" {
		t.Fatalf("interactive adb shell: %q %v", piped, err)
	}

	// Our ServerClient against the same real server.
	ctx := ctxT(t)
	sc := s.Client()
	if v, err := sc.Version(ctx); err != nil || v < 39 {
		t.Fatalf("version: %d %v", v, err)
	}
	devs, err := sc.Devices(ctx)
	if err != nil || len(devs) != 1 || devs[0].Serial != serial || devs[0].State != "device" || devs[0].Model != "Test_Phone" {
		t.Fatalf("devices: %+v %v", devs, err)
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var seen atomic.Bool
	err = sc.TrackDevices(tctx, func(ds []adb.DeviceEntry) {
		for _, d := range ds {
			if d.Serial == serial && d.State == "device" {
				seen.Store(true)
				cancel()
			}
		}
	})
	if err != nil || !seen.Load() {
		t.Fatalf("track-devices: seen=%v err=%v", seen.Load(), err)
	}
	d := sc.Device(serial)
	stdout, stderr, code, err := d.Shell(ctx, "err via server")
	if err != nil || code != 3 || string(stderr) != "via server\n" || len(stdout) != 0 {
		t.Fatalf("server shell: %q %q %d %v", stdout, stderr, code, err)
	}
	big, err := d.ExecOut(ctx, "big 1000000")
	if err != nil || !bytes.Equal(big, adbtest.Pattern(1000000)) {
		t.Fatalf("server exec-out: %d bytes %v", len(big), err)
	}
	data := adbtest.Pattern(3<<20 + 5)
	if err := d.Push(ctx, bytes.NewReader(data), "/sdcard/s.Bin", 0o600, time.Unix(1600000000, 0)); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := d.Pull(ctx, "/sdcard/s.Bin", &got); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("server pull: %d bytes %v", got.Len(), err)
	}
	if fi, err := d.Stat(ctx, "/sdcard/s.Bin"); err != nil || fi.Size != int64(len(data)) || fi.ModTime.Unix() != 1600000000 {
		t.Fatalf("server stat: %+v %v", fi, err)
	}
	if ents, err := d.List(ctx, "/sdcard"); err != nil || len(ents) == 0 {
		t.Fatalf("server list: %+v %v", ents, err)
	}
	if err := sc.Disconnect(ctx, serial); err != nil {
		t.Fatal(err)
	}
	if msg, err := sc.Connect(ctx, serial); err != nil {
		t.Fatalf("connect via ServerClient: %q %v", msg, err)
	}
	if err := sc.WaitForDevice(ctx, serial); err != nil {
		t.Fatal(err)
	}
	// Failures come back as the server's words.
	var se *adb.ServerError
	if _, _, _, err := sc.Device("nosuch:1").Shell(ctx, "true"); !errors.As(err, &se) || !strings.Contains(se.Msg, "not found") {
		t.Fatalf("unknown serial: %v", err)
	}
	closed := "127.0.0.1:" + strconv.Itoa(freePort(t))
	if msg, err := sc.Connect(ctx, closed); err == nil {
		t.Fatalf("connect to a closed port: %q", msg)
	}
	if out, code := s.Run(t, "-s", serial, "reboot"); code != 0 || h.Reboots.Load() != 1 {
		t.Fatalf("adb reboot: %d %q, reboots %d", code, out, h.Reboots.Load())
	}
}

func TestRealADBAuthAlwaysAllow(t *testing.T) {
	h := &adbtest.Handler{}
	var offered atomic.Int32
	auth := adbd.NewAuth()
	auth.Confirm = func(context.Context, *rsa.PublicKey, string) bool {
		offered.Add(1)
		return true
	}
	s, serial := realDevice(t, &adbd.Server{Handler: h, Auth: auth})
	s.connect(t, serial, "device")
	if offered.Load() != 1 {
		t.Fatalf("confirm asked %d times", offered.Load())
	}
	checkRealADB(t, s, serial, h)

	// The remembered key now signs its way in without a prompt.
	s.Run(t, "disconnect", serial)
	s.connect(t, serial, "device")
	if offered.Load() != 1 {
		t.Fatalf("confirm asked again: %d", offered.Load())
	}

	// Our key code reads the key adb generated and encodes its public
	// half exactly as adb wrote adbkey.pub.
	keyPath := filepath.Join(s.Home, ".android", "adbkey")
	k, err := adb.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pubFile, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := wire.EncodePublicKey(&k.PublicKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if b64, _, _ := strings.Cut(string(pubFile), " "); b64 != enc {
		t.Fatalf("adbkey.pub differs from our encoding")
	}
}

func TestRealADBAuthKnownKeyAndReject(t *testing.T) {
	s := startADB(t)
	pubFile, err := os.ReadFile(filepath.Join(s.Home, ".android", "adbkey.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := wire.ParsePublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	// A device that knows adb's key.
	h := &adbtest.Handler{}
	known := startDevice(t, &adbd.Server{Handler: h, Auth: adbd.NewAuth(pub)})
	s.connect(t, known, "device")
	if out, code := s.Run(t, "-s", known, "shell", "echo", "known"); code != 0 || out != "known\n" {
		t.Fatalf("known key shell: %d %q", code, out)
	}
	// A device that rejects it: adb shows it unauthorized and refuses
	// commands.
	other, err := adb.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	rejecting := startDevice(t, &adbd.Server{Handler: h, Auth: adbd.NewAuth(&other.PublicKey)})
	s.connect(t, rejecting, "unauthorized")
	if out, code := s.Run(t, "-s", rejecting, "shell", "echo", "x"); code == 0 || !strings.Contains(out, "unauthorized") {
		t.Fatalf("rejected shell: %d %q", code, out)
	}
}

// adbServer is an isolated real adb server for this test (sdk/adb/realadb).
type adbServer struct{ *realadb.Server }

func startADB(t testing.TB) *adbServer {
	t.Helper()
	return &adbServer{realadb.Start(t, realadb.Options{})}
}

func freePort(t testing.TB) int { return realadb.FreePort(t) }
