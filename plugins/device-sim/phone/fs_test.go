package phone

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"
	"time"
)

func TestFS(t *testing.T) {
	p := New(Options{})
	f := p.FS()
	data := bytes.Repeat([]byte{0, 1, 2, 0xff}, 3<<18) // 3 MiB
	if err := f.WriteFile("/sdcard/new/dir/big.bin", data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := f.ReadFile("/storage/emulated/0/new/dir/big.bin")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	fi, err := f.Stat("/sdcard/new/dir/big.bin")
	if err != nil || fi.Size != int64(len(data)) || fi.IsDir() || fi.ModTime.IsZero() {
		t.Fatalf("stat %+v %v", fi, err)
	}
	when := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := f.SetModTime("/sdcard/new/dir/big.bin", when); err != nil {
		t.Fatal(err)
	}
	if fi, _ := f.Stat("/sdcard/new/dir/big.bin"); !fi.ModTime.Equal(when) {
		t.Fatalf("mtime %v", fi.ModTime)
	}
	if fi, _ := f.Stat("/sdcard/new"); !fi.IsDir() {
		t.Fatal("parent not a directory")
	}
	list, err := f.List("/sdcard/new/dir")
	if err != nil || len(list) != 1 || list[0].Name != "big.bin" {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := f.WriteFile("/system/bin/evil", nil, 0); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write to /system: %v", err)
	}
	if _, err := f.Stat("/sdcard/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat missing: %v", err)
	}
	if err := f.Remove("/sdcard/new", false); err == nil {
		t.Fatal("removed a non-empty directory without recursive")
	}
	if err := f.Remove("/sdcard/new", true); err != nil {
		t.Fatal(err)
	}
	if out := must(t, p, "ls /data/local/tmp"); out != "" {
		t.Fatalf("tmp not empty: %q", out)
	}
	must(t, p, "screencap -p /data/local/tmp/s.png")
	if fi, err := f.Stat("/data/local/tmp/s.png"); err != nil || fi.Size < 1000 {
		t.Fatalf("screencap to file: %+v %v", fi, err)
	}
}
