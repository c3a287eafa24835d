package pluginhost_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// request4K is a planner request of about 4 KiB (mostly UI XML).
func request4K(instruction string) *cpv1.PlanRequest {
	node := `<node index="0" text="设置" class="android.widget.TextView" bounds="[100,300][300,500]" />`
	xml := strings.Repeat(node, 4096/len(node))
	return &cpv1.PlanRequest{Instruction: instruction, Step: 1,
		Observation: &cpv1.Observation{UiXml: xml, Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}}
}

// nativePlanner is the baseline: the test planners' logic as a plain Go call.
type nativePlanner struct{}

func (nativePlanner) Plan(_ context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	return &cpv1.PlanResponse{Result: &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{
		Message: "hello from planner-hello " + req.GetInstruction(), Success: true}}}, nil
}

// benchHost is a host with real loaders and no watcher.
func benchHost(b *testing.B) (*pluginhost.Host, string) {
	return benchHostWasm(b, wasmrt.Options{})
}

// benchHostWasm is benchHost with its wasm runtime configured by o.
func benchHostWasm(b *testing.B, o wasmrt.Options) (*pluginhost.Host, string) {
	log := slog.New(slog.DiscardHandler)
	o.CacheDir, o.Logger = b.TempDir(), log
	rt, err := wasmrt.NewRuntime(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	h := pluginhost.New(pluginhost.Options{Dir: dir, StageDir: b.TempDir(), Logger: log,
		Loaders: pluginhost.Loaders(rt, procrt.Options{Logger: log})})
	b.Cleanup(func() {
		h.Close(context.Background())
		rt.Close(context.Background())
	})
	return h, dir
}

func install(b *testing.B, h *pluginhost.Host, src, dst string) {
	data, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := h.LoadFile(context.Background(), dst); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPlanCall compares one planner call with a 4 KiB request as a
// native Go call, through wasm and through go-plugin, in one run.
func BenchmarkPlanCall(b *testing.B) {
	h, dir := benchHost(b)
	install(b, h, pluginbuild.BuildWasm(b, "../../examples/planner-hello", ""), filepath.Join(dir, "planner-hello.wasm"))
	install(b, h, pluginbuild.GoBinary(b, "./procrt/testdata/planner", "-X main.name=planner-proc"), filepath.Join(dir, "planner-proc"))
	req := request4K("hello")
	ctx := context.Background()
	run := func(b *testing.B, plan func() (*cpv1.PlanResponse, error)) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := plan(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("native", func(b *testing.B) {
		run(b, func() (*cpv1.PlanResponse, error) { return nativePlanner{}.Plan(ctx, req) })
	})
	b.Run("wasm", func(b *testing.B) {
		run(b, func() (*cpv1.PlanResponse, error) { return h.Plan(ctx, "planner-hello", req) })
	})
	b.Run("process", func(b *testing.B) {
		run(b, func() (*cpv1.PlanResponse, error) { return h.Plan(ctx, "planner-proc", req) })
	})
}

// withCustomSection returns bin with a custom section appended: the same
// module, a different hash, so nothing is served from a cache.
func withCustomSection(bin []byte, n int) []byte {
	payload := append([]byte{4, 'b', 'e', 'n', 'c'}, binary.AppendUvarint(nil, uint64(n))...)
	out := append(append([]byte{}, bin...), 0)
	out = binary.AppendUvarint(out, uint64(len(payload)))
	return append(out, payload...)
}

// BenchmarkSwap measures from a stable file to the new version serving:
// for a wasm module already compiled once (a rollback, a restart), for a
// wasm module never seen (full compile), for a never-seen module staged
// before it is published (wasm-pushed: prepared under a hidden name before
// it is renamed into place, untimed, as the cluster's plugin sync does and
// as the Watcher does for a file copied in under a temporary name; the
// rename and the swap are timed), and for a process plugin. The
// wasm cases run first with every instance running the guest's
// _initialize (wasmrt.Options.NoSnapshots), the baseline, then as
// configured by default; the process case first unstripped, the
// baseline, then stripped as make build ships plugins. x_vs_init is the
// baseline's time over the default's, x_vs_target the 50 ms target over
// the time.
func BenchmarkSwap(b *testing.B) {
	wasmBin, err := os.ReadFile(pluginbuild.BuildWasm(b, "../../examples/planner-hello", ""))
	if err != nil {
		b.Fatal(err)
	}
	// Process plugins as make build ships them (-s -w: no symbol table or
	// DWARF), and unstripped as the baseline.
	procs := map[bool][]string{}
	for _, strip := range []bool{false, true} {
		flags := ""
		if strip {
			flags = "-s -w "
		}
		for v := 1; v <= 2; v++ {
			procs[strip] = append(procs[strip], pluginbuild.GoBinary(b, "./procrt/testdata/planner",
				fmt.Sprintf("%s-X main.name=planner-proc -X main.version=%d", flags, v)))
		}
	}
	cases := []struct {
		name    string
		file    string
		noSnap  bool
		data    func(i int) []byte
		prepare bool
	}{
		{"wasm-cached/init", "planner-hello.wasm", true, func(i int) []byte { return withCustomSection(wasmBin, i%2) }, false},
		{"wasm-cached", "planner-hello.wasm", false, func(i int) []byte { return withCustomSection(wasmBin, i%2) }, false},
		{"wasm-new/init", "planner-hello.wasm", true, func(i int) []byte { return withCustomSection(wasmBin, 1000+i) }, false},
		{"wasm-new", "planner-hello.wasm", false, func(i int) []byte { return withCustomSection(wasmBin, 2000+i) }, false},
		{"wasm-pushed", "planner-hello.wasm", false, func(i int) []byte { return withCustomSection(wasmBin, 3000+i) }, true},
		{"process/unstripped", "planner-proc", false, func(i int) []byte { d, _ := os.ReadFile(procs[false][i%2]); return d }, false},
		{"process", "planner-proc", false, func(i int) []byte { d, _ := os.ReadFile(procs[true][i%2]); return d }, false},
	}
	base := map[string]float64{}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h, dir := benchHostWasm(b, wasmrt.Options{NoSnapshots: c.noSnap})
			dst := filepath.Join(dir, c.file)
			files := make([][]byte, 0)
			for i := 0; i < 2; i++ { // warm: both cached variants compiled once
				files = append(files, c.data(i))
				os.WriteFile(dst, files[i], 0o755)
				h.LoadFile(context.Background(), dst)
			}
			i := 2
			hidden := filepath.Join(dir, "."+c.file+".incoming")
			for b.Loop() {
				b.StopTimer()
				if !c.prepare {
					os.WriteFile(dst, c.data(i), 0o755)
				} else {
					os.WriteFile(hidden, c.data(i), 0o755)
					if err := h.Prepare(context.Background(), c.file, hidden); err != nil {
						b.Fatal(err)
					}
				}
				i++
				b.StartTimer()
				if c.prepare {
					if err := os.Rename(hidden, dst); err != nil {
						b.Fatal(err)
					}
				}
				if err := h.LoadFile(context.Background(), dst); err != nil {
					b.Fatal(err)
				}
			}
			ms := float64(b.Elapsed().Nanoseconds()) / 1e6 / float64(b.N)
			b.ReportMetric(ms, "ms/swap")
			b.ReportMetric(50/ms, "x_vs_target")
			name, mode, _ := strings.Cut(c.name, "/")
			if mode == "init" || mode == "unstripped" {
				base[name] = ms
			} else if init, ok := base[name]; ok {
				b.ReportMetric(init/ms, "x_vs_init")
			}
		})
	}
}

// BenchmarkCallsDuringSwap drives a planner from 4 goroutines while its
// file is replaced, and reports calls/s and failed calls across the swaps.
func BenchmarkCallsDuringSwap(b *testing.B) {
	for _, c := range []struct{ name, file, plugin, pkg string }{
		{"wasm", "planner-hello.wasm", "planner-hello", "wasm"},
		{"process", "planner-proc", "planner-proc", "proc"},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, dir := benchHost(b)
			dst := filepath.Join(dir, c.file)
			versions := make([][]byte, 2)
			for v := range versions {
				var p string
				if c.pkg == "wasm" {
					p = pluginbuild.BuildWasm(b, "../../examples/planner-hello", fmt.Sprintf("-X main.version=%d", v))
				} else {
					p = pluginbuild.GoBinary(b, "./procrt/testdata/planner", fmt.Sprintf("-X main.name=planner-proc -X main.version=%d", v))
				}
				versions[v], _ = os.ReadFile(p)
				os.WriteFile(dst, versions[v], 0o755)
				if err := h.LoadFile(context.Background(), dst); err != nil {
					b.Fatal(err)
				}
			}
			ctx, stop := context.WithCancel(context.Background())
			var ok, failed atomic.Int64
			var wg sync.WaitGroup
			req := request4K("hello")
			for g := 0; g < 4; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						if _, err := h.Plan(context.Background(), c.plugin, req); err != nil {
							failed.Add(1)
						} else {
							ok.Add(1)
						}
					}
				}()
			}
			start := time.Now()
			v := 0
			for b.Loop() {
				v++
				os.WriteFile(dst, versions[v%2], 0o755)
				if err := h.LoadFile(context.Background(), dst); err != nil {
					b.Fatal(err)
				}
			}
			stop()
			wg.Wait()
			secs := time.Since(start).Seconds()
			b.ReportMetric(float64(ok.Load())/secs, "calls/s")
			b.ReportMetric(float64(failed.Load()), "failed")
		})
	}
}
