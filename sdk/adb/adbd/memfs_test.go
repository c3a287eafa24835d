package adbd_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

func TestMemFS(t *testing.T) {
	ctx := context.Background()
	var m adbd.MemFS
	if fi, err := m.Stat(ctx, "/"); err != nil || !fi.IsDir() {
		t.Fatalf("root: %+v %v", fi, err)
	}
	if err := m.WriteFile("/sdcard/DCIM/a.png", []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := m.Create(ctx, "/sdcard/b.txt", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("hello"))
	if _, err := m.Stat(ctx, "/sdcard/b.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("visible before Commit: %v", err)
	}
	mt := time.Unix(1600000000, 0)
	if err := w.Commit(mt); err != nil {
		t.Fatal(err)
	}
	fi, err := m.Stat(ctx, "/sdcard/b.txt")
	if err != nil || fi.Size != 5 || fi.Mode != 0o600 || !fi.ModTime.Equal(mt) {
		t.Fatalf("stat: %+v %v", fi, err)
	}
	ents, err := m.List(ctx, "/sdcard/")
	if err != nil || len(ents) != 2 || ents[0].Name != "DCIM" || !ents[0].IsDir() || ents[1].Name != "b.txt" {
		t.Fatalf("list: %+v %v", ents, err)
	}
	r, err := m.Open(ctx, "/sdcard/DCIM/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "png" {
		t.Fatalf("read %q", b)
	}
	if _, err := m.Open(ctx, "/sdcard"); !errors.Is(err, wire.EISDIR) {
		t.Fatalf("open dir: %v", err)
	}
	if _, err := m.Create(ctx, "/sdcard/DCIM", 0o644); err == nil {
		t.Fatal("create over a directory")
	}
	if _, err := m.List(ctx, "/sdcard/b.txt"); !errors.Is(err, wire.ENOTDIR) {
		t.Fatalf("list file: %v", err)
	}
	if err := m.WriteFile("/sdcard/b.txt/x", nil, 0o644); !errors.Is(err, wire.ENOTDIR) {
		t.Fatalf("file as parent: %v", err)
	}
	if err := m.Remove("/sdcard/DCIM"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("remove non-empty dir: %v", err)
	}
	if err := m.Remove("/sdcard/DCIM/a.png"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("/sdcard/DCIM"); err != nil {
		t.Fatal(err)
	}
	if err := m.Mkdir("/data/local/tmp"); err != nil {
		t.Fatal(err)
	}
	if fi, err := m.Stat(ctx, "/data/local"); err != nil || !fi.IsDir() {
		t.Fatalf("mkdir parents: %+v %v", fi, err)
	}
}
