package vgpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/ring"
)

// TestProcessModelOverShmRing: a real process model plugin attaches to the
// shared-memory ring handed over at Load, and requests are answered over
// it, chunks and GPU time included.
func TestProcessModelOverShmRing(t *testing.T) {
	h := newHost(t, testModel{Name: "model-ring", MemoryMiB: 2, GPUTimeUs: 700})
	g := newGateway(t, Options{Adapters: HostAdapters(h), Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprint("over the ring ", i)
			text, done, err := collect(ctx, g, "model-ring", request(want, 0))
			if err != nil || text != want || done.GetUsage().GetGpuTimeUs() != 700 || done.GetFinishReason() != "stop" {
				t.Errorf("request %d: %q %v %v", i, text, done, err)
			}
		}()
	}
	wg.Wait()
	st := status(g, "s")
	if len(st.Loaded) != 1 || st.Loaded[0].Ring == "" || st.ShmCommands != 8 || st.Completed != 8 || st.GPUTime != 8*700_000 {
		t.Fatalf("status %+v", st)
	}
	path := st.Loaded[0].Ring
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	// An adapter error travels back over the ring.
	if _, _, err := collect(ctx, g, "model-ring", request("fail:out of memory", 0)); err == nil || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("error over the ring: %v", err)
	}
	// Unload detaches the plugin and removes the ring.
	if err := g.Unload(ctx, "model-ring"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("ring file after unload: %v", err)
	}
}

// TestProcessKilledMidBatch kills the model plugin's process while it runs
// a batch of commands from its ring: those it had fetched are retried once
// on the restarted process, the rest are fetched by it, and all are
// answered; a command that kills the process every time fails
// with the ring's reason.
func TestProcessKilledMidBatch(t *testing.T) {
	h := newHost(t, testModel{Name: "model-kill", MemoryMiB: 1})
	g := newGateway(t, Options{Adapters: HostAdapters(h), MaxInFlight: 8, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	ctx := context.Background()
	pid := modelPid(t, g, "model-kill")
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Unique texts: the plugin sleeps, then echoes.
			req := request("sleep:400", 0)
			req.TaskId = fmt.Sprint("task-", i)
			text, _, err := collect(ctx, g, "model-kill", req)
			if err != nil || text != "sleep:400" {
				t.Errorf("request %d after the kill: %q %v", i, text, err)
			}
		}()
	}
	waitFor(t, "five commands in flight", func() bool { return status(g, "s").InFlight == 5 })
	lane := shmLaneOf(g, "s", "model-kill")
	waitFor(t, "the plugin to fetch a command", func() bool { return lane.r.Fetched() > 0 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// Commands the process had fetched were lost with it and retried;
	// those still in the ring were fetched by the restarted process.
	st := status(g, "s")
	if st.Retried < 1 || st.Retried > 5 || st.Completed != 6 || st.Failed != 0 {
		t.Fatalf("after the kill: %+v", st)
	}
	retried := st.Retried
	if newPid := modelPid(t, g, "model-kill"); newPid == pid {
		t.Fatalf("pid after restart: %d, as before", newPid)
	}
	_, _, err := collect(ctx, g, "model-kill", request("crash", 0))
	if !errors.Is(err, ring.ErrConsumerLost) {
		t.Fatalf("a command that kills its process twice: %v", err)
	}
	t.Logf("reason: %v", err)
	if st := status(g, "s"); st.Retried != retried+1 {
		t.Fatalf("retried %d, want %d", st.Retried, retried+1)
	}
	// The model serves again afterwards.
	if text, _, err := collect(ctx, g, "model-kill", request("still here", 0)); err != nil || text != "still here" {
		t.Fatalf("after the crashes: %q %v", text, err)
	}
}

// TestProcessKilledBeforeFetching: commands waiting in the ring when the
// model's process dies were never fetched, so no caller sees a loss; the
// gateway still has the restarted process attach, and it serves them.
func TestProcessKilledBeforeFetching(t *testing.T) {
	h := newHost(t, testModel{Name: "model-stopped", MemoryMiB: 1})
	g := newGateway(t, Options{Adapters: HostAdapters(h), MaxInFlight: 8, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	ctx := context.Background()
	pid := modelPid(t, g, "model-stopped")
	// A stopped process fetches nothing: the commands stay in the ring.
	stopProcess(t, pid)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprint("queued ", i)
			if text, _, err := collect(ctx, g, "model-stopped", request(want, 0)); err != nil || text != want {
				t.Errorf("request %d: %q %v", i, text, err)
			}
		}()
	}
	waitFor(t, "three commands in the ring", func() bool { return status(g, "s").InFlight == 3 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if st := status(g, "s"); st.Completed != 4 || st.Failed != 0 || st.Retried != 0 {
		t.Fatalf("after the kill: %+v", st)
	}
}

// TestBatchingProcessModel: a process model plugin that implements
// plugin.BatchModel receives the commands waiting in its ring as one
// batch, and each caller gets its own answer.
func TestBatchingProcessModel(t *testing.T) {
	h := newHost(t, testModel{Name: "batch-model", MemoryMiB: 1, GPUTimeUs: 300})
	g := newGateway(t, Options{Adapters: HostAdapters(h), MaxInFlight: 16, Config: vgpuConfig(
		config.SliceConfig{Name: "s", MemoryMiB: 10, ComputePercent: 100})})
	ctx := context.Background()
	if text, _, err := collect(ctx, g, "batch-model", request("alone", 0)); err != nil || text != "alone (batch of 1)" {
		t.Fatalf("first request: %q %v", text, err)
	}
	pid := modelPid(t, g, "batch-model")
	// While the process is stopped, eight requests wait in its ring; when
	// it goes on, one fetch takes them all.
	stopProcess(t, pid)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprint("request ", i, " (batch of 8)")
			text, done, err := collect(ctx, g, "batch-model", request(fmt.Sprint("request ", i), 0))
			if err != nil || text != want || done.GetUsage().GetGpuTimeUs() != 300 {
				t.Errorf("request %d: %q %v %v", i, text, done, err)
			}
		}()
	}
	waitFor(t, "eight commands in the ring", func() bool { return status(g, "s").InFlight == 8 })
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if st := status(g, "s"); st.Completed != 10 || st.ShmCommands != 10 {
		t.Fatalf("status %+v", st)
	}
}

// modelPid asks the gpumodel plugin serving model for its process id.
func modelPid(t *testing.T, g *Gateway, model string) int {
	t.Helper()
	text, _, err := collect(context.Background(), g, model, request("pid", 0))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(text)
	if err != nil {
		t.Fatalf("pid of %s: %v", model, err)
	}
	return pid
}

// stopProcess stops pid with SIGSTOP and waits until it has stopped.
func stopProcess(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	waitFor(t, "the plugin's process to stop", func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// Field 3, after the parenthesized command name, is the state.
		i := strings.LastIndexByte(string(stat), ')')
		return err == nil && i > 0 && len(stat) > i+2 && stat[i+2] == 'T'
	})
}

// shmLaneOf is model's shared-memory lane on slice name.
func shmLaneOf(g *Gateway, name, model string) *shmLane {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range g.slices {
		if m := s.models[model]; s.cfg.Name == name && m != nil {
			return m.shm
		}
	}
	return nil
}

// TestStaleRingsRemoved: rings left by a dead gateway process are removed
// when a gateway starts; those of live processes stay.
func TestStaleRingsRemoved(t *testing.T) {
	dir := t.TempDir()
	// A pid above the kernel's pid_max never runs.
	dead := filepath.Join(dir, "cloudphone-vgpu-999999999-1-s-m")
	live := filepath.Join(dir, fmt.Sprintf("cloudphone-vgpu-%d-1-s-m", os.Getppid()))
	other := filepath.Join(dir, "unrelated")
	for _, p := range []string{dead, live, other} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	newGateway(t, Options{Adapters: &simGPU{}, ShmDir: dir, Config: vgpuConfig(config.SliceConfig{Name: "s", MemoryMiB: 1, ComputePercent: 1})})
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("stale ring: %v", err)
	}
	for _, p := range []string{live, other} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
}
