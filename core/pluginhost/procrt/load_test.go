package procrt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestLoadDescribePlan(t *testing.T) {
	bin := plannerVersion(t, "1.2.3")
	p := load(t, bin, Options{})

	info := p.Info()
	if info.GetName() != "planner-test" || info.GetVersion() != "1.2.3" ||
		info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER || info.GetContractMajor() != cpv1.ContractMajor {
		t.Fatalf("info = %v", info)
	}
	if p.Transport() != "process" || p.State() != StateReady || p.Pid() <= 0 {
		t.Fatalf("transport %q state %q pid %d", p.Transport(), p.State(), p.Pid())
	}
	want, err := fileSHA256(bin)
	if err != nil || p.SHA256() != want {
		t.Fatalf("sha256 = %q, want %q (%v)", p.SHA256(), want, err)
	}

	ctx := ctxT(t, 10*time.Second)
	if err := p.Configure(ctx, []byte(`{"k":1}`)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	resp, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "open settings"})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if got := resp.GetFinish().GetMessage(); got != "planner-test 1.2.3: open settings" {
		t.Fatalf("finish message = %q", got)
	}
	if resp.GetThinking() != `config={"k":1}` {
		t.Fatalf("thinking = %q", resp.GetThinking())
	}
	if _, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "log", TaskId: "t1"}); err != nil {
		t.Fatalf("plan log: %v", err)
	}
	_, err = p.List(ctx, &cpv1.ListRequest{})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("list on a planner: err = %v, want ErrUnsupported", err)
	}
}

func TestLoadRejectsBadBinaries(t *testing.T) {
	planner := plannerBin(t)
	sum, err := fileSHA256(planner)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "hangs.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(text, []byte("just text\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	badName := buildBadName(t)

	for _, tc := range []struct {
		name    string
		path    string
		opts    Options
		is      error
		says    []string
		maxTime time.Duration
	}{
		{"not a plugin", testBin(t, "notplugin"), Options{}, ErrNotPlugin,
			[]string{"not a cloudphone plugin", `printed "hello, I am not a plugin"`, "stdout"}, 5 * time.Second},
		{"wrong protocol version", testBin(t, "wrongproto"), Options{}, ErrIncompatible,
			[]string{"contract v2", "host speaks v1"}, 5 * time.Second},
		{"sha256 mismatch", planner, Options{SHA256: strings.Repeat("ab", 32)}, ErrSHA256Mismatch,
			[]string{"sha256 mismatch: file has " + sum + ", config pins " + strings.Repeat("ab", 32)}, time.Second},
		{"hangs without handshake", script, Options{StartTimeout: time.Second}, ErrNotPlugin,
			[]string{"did not complete the plugin handshake within 1s"}, 5 * time.Second},
		{"not executable", text, Options{}, nil, []string{"cannot execute notes.txt"}, 5 * time.Second},
		{"missing", filepath.Join(t.TempDir(), "nothing"), Options{}, os.ErrNotExist, []string{"nothing"}, time.Second},
		{"bad name", badName, Options{}, ErrInvalidInfo, []string{`name "Bad Name"`}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			p, err := Load(ctxT(t, 30*time.Second), tc.path, Options{
				Logger: testLogger(t), SHA256: tc.opts.SHA256, StartTimeout: tc.opts.StartTimeout,
			})
			took := time.Since(began)
			if err == nil {
				p.Close(context.Background())
				t.Fatal("load succeeded")
			}
			t.Logf("error after %v: %v", took.Round(time.Millisecond), err)
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error does not wrap %v", tc.is)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q", s)
				}
			}
			if took > tc.maxTime {
				t.Errorf("took %v, want < %v", took, tc.maxTime)
			}
			checkFor(t, 3*time.Second, 20*time.Millisecond, func() error {
				return noProcessOf(tc.path)
			})
		})
	}

	t.Run("pin matches", func(t *testing.T) {
		p := load(t, planner, Options{SHA256: strings.ToUpper(sum)})
		if p.SHA256() != sum {
			t.Fatalf("sha256 = %s, want %s", p.SHA256(), sum)
		}
	})

	// Hashed: the caller's sum is taken as is (the host hashed its own
	// staged copy while writing it), so Load reads the file once, to run
	// it. The sum given here is deliberately not the file's: Load takes it
	// without a mismatch, which shows it did not hash.
	t.Run("hashed by the caller", func(t *testing.T) {
		given := strings.Repeat("cd", 32)
		p := load(t, planner, Options{SHA256: given, Hashed: true})
		if p.SHA256() != given {
			t.Fatalf("sha256 = %s, want the caller's %s", p.SHA256(), given)
		}
	})
}

// buildBadName builds the test planner with a name the host must refuse.
func buildBadName(t *testing.T) string {
	return pluginbuild.GoBinary(t, "./testdata/planner", "-X 'main.name=Bad Name'")
}

// noProcessOf returns an error naming a live process running the file at
// path, if any.
func noProcessOf(path string) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
			var pid int
			for _, c := range e.Name() {
				pid = pid*10 + int(c-'0')
			}
			if !processGone(pid) {
				return errors.New("process " + e.Name() + " still runs " + path)
			}
		}
	}
	return nil
}

func TestPanicInHandlerIsAnError(t *testing.T) {
	p := load(t, testBin(t, "panicky"), Options{})
	pid := p.Pid()
	ctx := ctxT(t, 10*time.Second)
	for range 3 {
		_, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "panic please"})
		if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "plugin panicked") ||
			!strings.Contains(err.Error(), "nil map") {
			t.Fatalf("plan: err = %v, want an Internal error about the panic", err)
		}
	}
	if _, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "ok"}); err != nil {
		t.Fatalf("plan after panics: %v", err)
	}
	if p.Pid() != pid || p.State() != StateReady {
		t.Fatalf("pid %d -> %d, state %s: the process did not survive", pid, p.Pid(), p.State())
	}
}

func TestDeadlineIsHonoured(t *testing.T) {
	p := load(t, testBin(t, "sleepy"), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "1m"})
	took := time.Since(began)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("plan: err = %v, want context.DeadlineExceeded", err)
	}
	if took > time.Second {
		t.Fatalf("plan returned after %v, want about 200ms", took)
	}
	resp, err := p.Plan(ctxT(t, 10*time.Second), &cpv1.PlanRequest{Instruction: "10ms"})
	if err != nil || resp.GetFinish().GetMessage() != "slept 10ms" {
		t.Fatalf("plan after a deadline: %v, %v", resp, err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	p := load(t, plannerBin(t), Options{})
	ctx := ctxT(t, 60*time.Second)
	const goroutines, calls = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			for j := range calls {
				state := make([]byte, i*10+j%7)
				resp, err := p.Plan(ctx, &cpv1.PlanRequest{Instruction: "c", State: state})
				if err != nil {
					errs <- err
					return
				}
				if got, want := string(resp.GetState()), strconv.Itoa(len(state)); got != want {
					errs <- errors.New("reply for another request: state " + got + ", want " + want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	p, err := Load(ctxT(t, 30*time.Second), plannerBin(t), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	var states []string
	p.opts.OnStateChange = func(s string, _ error) { states = append(states, s) }
	if err := p.Close(ctxT(t, 10*time.Second)); err != nil {
		t.Fatalf("close: %v", err)
	}
	if !processGone(pid) {
		t.Fatalf("pid %d runs after Close", pid)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := p.Plan(context.Background(), &cpv1.PlanRequest{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("plan after close: err = %v, want ErrClosed", err)
	}
	if p.State() != StateClosed || p.Pid() != 0 || len(states) != 1 || states[0] != StateClosed {
		t.Fatalf("state %s pid %d notified %v", p.State(), p.Pid(), states)
	}
}
