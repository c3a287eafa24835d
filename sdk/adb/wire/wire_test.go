package wire

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPacketRoundTrip(t *testing.T) {
	var b bytes.Buffer
	big := bytes.Repeat([]byte{7}, 10000)
	for _, p := range []Packet{
		{Command: CmdCNXN, Arg0: VersionSkipChecksum, Arg1: MaxPayload, Data: []byte("host::")},
		{Command: CmdOKAY, Arg0: 1, Arg1: 2},
		{Command: CmdWRTE, Arg0: 3, Arg1: 4, Data: big},
	} {
		if err := WritePacket(&b, p, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []Command{CmdCNXN, CmdOKAY, CmdWRTE} {
		p, err := ReadPacket(&b, MaxPayload, true)
		if err != nil || p.Command != want {
			t.Fatalf("read %v: %v", p, err)
		}
	}
	if _, err := ReadPacket(&b, MaxPayload, true); !errors.Is(err, io.EOF) {
		t.Fatalf("at end: %v", err)
	}
	// A corrupted checksum is caught only when asked to verify.
	_ = WritePacket(&b, Packet{Command: CmdWRTE, Data: []byte("abc")}, true)
	raw := b.Bytes()
	raw[len(raw)-1] ^= 1
	if _, err := ReadPacket(bytes.NewReader(raw), 10, true); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("checksum: %v", err)
	}
	if _, err := ReadPacket(bytes.NewReader(raw), 10, false); err != nil {
		t.Fatalf("unverified: %v", err)
	}
	if CmdCNXN.String() != "CNXN" || Command(1).String() != "0x00000001" {
		t.Fatal("Command.String")
	}
}

func TestBanner(t *testing.T) {
	s := "device::ro.product.name=p;ro.product.model=M;ro.product.device=d;features=shell_v2,cmd,stat_v2"
	b := ParseBanner(s + "\x00")
	if b.Type != "device" || b.Product != "p" || b.Model != "M" || b.Device != "d" || !b.Has(FeatureStat2) || b.Has(FeatureLs2) {
		t.Fatalf("%+v", b)
	}
	if b.String() != s {
		t.Fatalf("String() = %q", b.String())
	}
	if ParseBanner("offline").Type != "offline" {
		t.Fatal("bare type")
	}
}

func TestKeys(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := EncodePublicKey(&k.PublicKey, "me@here")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(pub, " me@here") || len(strings.Fields(pub)[0]) != 700 {
		t.Fatalf("encoded key %q…", pub[:20])
	}
	got, comment, err := ParsePublicKey([]byte(pub + "\x00"))
	if err != nil || !got.Equal(&k.PublicKey) || comment != "me@here" {
		t.Fatalf("parse: %v %q", err, comment)
	}
	token := make([]byte, TokenSize)
	_, _ = rand.Read(token)
	sig, err := SignToken(k, token)
	if err != nil || !VerifyToken(&k.PublicKey, token, sig) {
		t.Fatalf("sign/verify: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if VerifyToken(&other.PublicKey, token, sig) {
		t.Fatal("verified with the wrong key")
	}
	if _, _, err := ParsePublicKey([]byte("not base64!")); err == nil {
		t.Fatal("garbage parsed")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, ".android", "adbkey")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reload: %v", err)
	}
	if _, err := os.Stat(path + ".pub"); err != nil {
		t.Fatal(err)
	}
	// The older PKCS#1 form loads too.
	p1 := filepath.Join(dir, "pkcs1")
	_ = os.WriteFile(p1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600)
	if k3, err := LoadKey(p1); err != nil || !k3.Equal(k) {
		t.Fatalf("pkcs1: %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key: %v", err)
	}
}

func TestSyncMessages(t *testing.T) {
	fi := FileInfo{Mode: 0o640, Size: 5 << 30, ModTime: time.Unix(1700000000, 0), UID: 1000, GID: 1015}
	got, err := ReadStat(bytes.NewReader(AppendStat2(nil, SyncLST2, 0, fi)), true)
	if err != nil || got != fi {
		t.Fatalf("stat2: %+v %v", got, err)
	}
	if _, err := ReadStat(bytes.NewReader(AppendStat2(nil, SyncSTA2, ENOENT, FileInfo{})), true); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat2 enoent: %v", err)
	}
	if _, err := ReadStat(bytes.NewReader(AppendStat1(nil, FileInfo{})), false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat1 missing: %v", err)
	}
	dir := FileInfo{Name: "Download", Mode: fs.ModeDir | 0o771}
	for _, v2 := range []bool{false, true} {
		var b []byte
		if v2 {
			b = AppendListDone(AppendDent2(nil, dir), true)
		} else {
			b = AppendListDone(AppendDent1(nil, dir), false)
		}
		r := bytes.NewReader(b)
		e, err := ReadDent(r, v2)
		if err != nil || e.Name != "Download" || !e.IsDir() {
			t.Fatalf("dent v2=%v: %+v %v", v2, e, err)
		}
		if _, err := ReadDent(r, v2); !errors.Is(err, io.EOF) || r.Len() != 0 {
			t.Fatalf("done v2=%v: %v, %d left", v2, err, r.Len())
		}
	}
	for _, m := range []fs.FileMode{0o644, fs.ModeDir | 0o755, fs.ModeSymlink | 0o777, fs.ModeDevice | fs.ModeCharDevice | 0o600, fs.ModeSetuid | 0o755} {
		if GoMode(UnixMode(m)) != m {
			t.Errorf("mode %v → %o → %v", m, UnixMode(m), GoMode(UnixMode(m)))
		}
	}
	_, _, err = ReadSyncReply(bytes.NewReader(AppendSyncMsg(nil, SyncFAIL, 4, []byte("nope"))), nil)
	var fail *SyncFailError
	if !errors.As(err, &fail) || fail.Msg != "nope" {
		t.Fatalf("fail: %v", err)
	}
}
