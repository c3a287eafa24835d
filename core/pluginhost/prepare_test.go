package pluginhost_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestPrepareBeforePublishing: a wasm module prepared from a hidden file
// is compiled and started once; published under its name afterwards, it
// loads from the runtime's memory and its first instance is restored
// from the snapshot (no compile, no _initialize). A module pinned to
// another sha256, a file that is not wasm, a process plugin that is not
// executable and a closed host are refused.
func TestPrepareBeforePublishing(t *testing.T) {
	pins := map[string]string{"pinned": strings.Repeat("0", 64)}
	h, dir, loaded := countingHost(t, pins)
	ctx := context.Background()
	src := pluginbuild.BuildWasm(t, "../../examples/planner-hello", "")

	hidden := filepath.Join(dir, ".planner-hello.wasm.incoming")
	copyFile(t, src, hidden)
	if err := h.Prepare(ctx, "planner-hello.wasm", hidden); err != nil {
		t.Fatal(err)
	}
	if len(h.Status()) != 0 {
		t.Fatalf("Prepare registered something: %+v", h.Status())
	}
	dst := filepath.Join(dir, "planner-hello.wasm")
	if err := os.Rename(hidden, dst); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadFile(ctx, dst); err != nil {
		t.Fatal(err)
	}
	mods := loaded()
	if len(mods) != 2 {
		t.Fatalf("%d wasm loads, want 2 (prepare, publish)", len(mods))
	}
	if st := mods[1].Stats(); st.Restored == 0 {
		t.Fatalf("the published module's instance was not restored from the prepared snapshot: %+v", st)
	}

	copyFile(t, src, filepath.Join(dir, ".pinned.incoming"))
	notWasm := filepath.Join(dir, ".bad.incoming")
	if err := os.WriteFile(notWasm, []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"pinned.wasm", filepath.Join(dir, ".pinned.incoming"), "config plugins.pin pins"},
		{"bad.wasm", notWasm, "not a wasm module"},
	} {
		if err := h.Prepare(ctx, tc.name, tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("prepare %s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A process plugin is started once; a file that is not executable is
	// not one.
	if err := h.Prepare(ctx, "device-x", notWasm); err == nil || !strings.Contains(err.Error(), "not a plugin file") {
		t.Errorf("prepare a process plugin from a plain file: %v", err)
	}
	h.Close(ctx)
	if err := h.Prepare(ctx, "planner-hello.wasm", dst); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("prepare after Close: %v", err)
	}
}

// countingHost is a host on a fresh directory whose wasm loads are
// recorded: loaded returns the modules loaded so far, prepares included.
func countingHost(t *testing.T, pins map[string]string) (h *pluginhost.Host, dir string, loaded func() []*wasmrt.Module) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	rt, err := wasmrt.NewRuntime(context.Background(), wasmrt.Options{CacheDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		mods []*wasmrt.Module
	)
	loaders := pluginhost.Loaders(rt, procrt.Options{Logger: log})
	wasmLoad := loaders[pluginhost.TransportWasm]
	loaders[pluginhost.TransportWasm] = func(ctx context.Context, f *pluginhost.File, n func(string, error)) (pluginhost.Instance, error) {
		inst, err := wasmLoad(ctx, f, n)
		if m, ok := inst.(*wasmrt.Module); ok {
			mu.Lock()
			mods = append(mods, m)
			mu.Unlock()
		}
		return inst, err
	}
	dir = t.TempDir()
	h = pluginhost.New(pluginhost.Options{Dir: dir, StageDir: t.TempDir(), Logger: log, Loaders: loaders,
		Pins: func() map[string]string { return pins }})
	t.Cleanup(func() {
		h.Close(context.Background())
		rt.Close(context.Background())
	})
	return h, dir, func() []*wasmrt.Module {
		mu.Lock()
		defer mu.Unlock()
		return append([]*wasmrt.Module(nil), mods...)
	}
}

// TestWatcherPreparesStagedFiles: a wasm module copied into the plugin
// directory under a temporary name is prepared by the watcher, not loaded;
// renamed into place, it is swapped in from the prepared code (its first
// instance restored from the prepared snapshot). A staged file that is not
// a valid module is reported to OnPrepared and registers nothing.
func TestWatcherPreparesStagedFiles(t *testing.T) {
	h, dir, loaded := countingHost(t, nil)
	prepared := make(chan error, 4)
	w, err := h.Watch(context.Background(), pluginhost.WatchOptions{
		OnPrepared: func(path string, err error) { prepared <- err },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	wait := func() error {
		t.Helper()
		select {
		case err := <-prepared:
			return err
		case <-time.After(2 * time.Minute):
			t.Fatal("the staged file was never prepared")
			return nil
		}
	}

	src := pluginbuild.BuildWasm(t, "../../examples/planner-hello", "")
	staged := filepath.Join(dir, ".planner-hello.wasm.tmp")
	copyFile(t, src, staged)
	if err := wait(); err != nil {
		t.Fatalf("prepare the staged file: %v", err)
	}
	if st := h.Status(); len(st) != 0 {
		t.Fatalf("a staged file was registered: %+v", st)
	}
	dst := filepath.Join(dir, "planner-hello.wasm")
	if err := os.Rename(staged, dst); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() bool {
		st := h.Status()
		return len(st) == 1 && st[0].State == pluginhost.StateActive
	})
	mods := loaded()
	if len(mods) != 2 {
		t.Fatalf("%d wasm loads, want 2 (prepare, publish)", len(mods))
	}
	if st := mods[1].Stats(); st.Restored == 0 {
		t.Fatalf("the published module did not start from the prepared snapshot: %+v", st)
	}

	if err := os.WriteFile(filepath.Join(dir, ".broken.wasm.tmp"), []byte("\x00asm not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := wait(); err == nil {
		t.Fatal("a broken staged module was prepared")
	}
	if st := h.Status(); len(st) != 1 {
		t.Fatalf("a broken staged file was registered: %+v", st)
	}
}

// TestInstall: Install publishes a wasm module prepared, so that it serves
// from the prepared snapshot; a bad module, a name that is not a plain
// file name and a module pinned to another sha256 are refused with
// ErrRejected, leave the directory as it was and the old version serving;
// no temporary file is left behind.
func TestInstall(t *testing.T) {
	pins := map[string]string{"pinned": strings.Repeat("0", 64)}
	h, dir, loaded := countingHost(t, pins)
	ctx := context.Background()
	src := pluginbuild.BuildWasm(t, "../../examples/planner-hello", "")
	dst := filepath.Join(dir, "planner-hello.wasm")

	sum, err := h.Install(ctx, "planner-hello.wasm", src)
	if err != nil {
		t.Fatal(err)
	}
	if want := fileSHA(t, src); sum != want || fileSHA(t, dst) != want {
		t.Fatalf("installed sha256 %s, file %s; want %s", sum, fileSHA(t, dst), want)
	}
	if st := h.Status(); len(st) != 1 || st[0].State != pluginhost.StateActive || st[0].SHA256 != sum {
		t.Fatalf("status after install: %+v", st)
	}
	if mods := loaded(); len(mods) != 2 || mods[1].Stats().Restored == 0 {
		t.Fatalf("the installed module did not start from its prepared snapshot (%d loads)", len(mods))
	}

	garbage := filepath.Join(t.TempDir(), "garbage.wasm")
	if err := os.WriteFile(garbage, []byte("\x00asm\x01\x00\x00\x00 truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"planner-hello.wasm", garbage, "compile"},
		{".hidden.wasm", src, "plain file name"},
		{"../escape.wasm", src, "plain file name"},
		{"pinned.wasm", src, "config plugins.pin pins"},
		{"missing.wasm", filepath.Join(t.TempDir(), "nope.wasm"), "no such file"},
	} {
		_, err := h.Install(ctx, tc.name, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("install %s from %s: %v, want an error mentioning %q", tc.name, filepath.Base(tc.src), err, tc.want)
		}
		if tc.name != "missing.wasm" && !errors.Is(err, pluginhost.ErrRejected) {
			t.Errorf("install %s: %v does not wrap ErrRejected", tc.name, err)
		}
	}
	if fileSHA(t, dst) != sum {
		t.Fatal("a refused install replaced the installed file")
	}
	if st := h.Status(); len(st) != 1 || st[0].State != pluginhost.StateActive || st[0].SHA256 != sum {
		t.Fatalf("status after refused installs: %+v", st)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		names := []string{}
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("plugin dir holds %v, want only planner-hello.wasm", names)
	}
}

// TestInstallRefusesBeforeRename: Install starts a process plugin and
// checks what any plugin describes before the file takes its name, so a
// binary that fails the handshake, or a plugin built for another contract
// version, is refused with the reason and the directory and the serving
// version stay as they were.
func TestInstallRefusesBeforeRename(t *testing.T) {
	h, dir, _ := countingHost(t, nil)
	ctx := context.Background()
	good := pluginbuild.GoBinary(t, "./procrt/testdata/planner", "-X main.name=planner-proc -X main.version=1.0.0")
	sum, err := h.Install(ctx, "planner-proc", good)
	if err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"planner-proc", pluginbuild.GoBinary(t, "./procrt/testdata/notplugin", ""), "not a cloudphone plugin"},
		{"planner-proc", pluginbuild.GoBinary(t, "./procrt/testdata/wrongproto", ""), "contract"},
		{"planner-proc", notExec, "not a plugin file"},
		{"contract2.wasm", pluginbuild.BuildWasm(t, "wasmrt/testdata/contract2", ""), "contract major version 2"},
	} {
		_, err := h.Install(ctx, tc.name, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, pluginhost.ErrRejected) {
			t.Errorf("install %s from %s: %v, want ErrRejected mentioning %q", tc.name, filepath.Base(tc.src), err, tc.want)
		}
	}
	if fileSHA(t, filepath.Join(dir, "planner-proc")) != sum {
		t.Error("a refused install replaced the installed binary")
	}
	if _, err := os.Stat(filepath.Join(dir, "contract2.wasm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused module was published: %v", err)
	}
	if st := h.Status(); len(st) != 1 || st[0].State != pluginhost.StateActive || st[0].SHA256 != sum {
		t.Fatalf("status after refused installs: %+v", st)
	}
}
