package wasmrt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func screenReq(instruction string, step int32) *cpv1.PlanRequest {
	return &cpv1.PlanRequest{
		TaskId:      "t1",
		Instruction: instruction,
		Step:        step,
		Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}},
	}
}

func TestLoadDescribePlan(t *testing.T) {
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, helloDir, "")
	ctx := context.Background()

	info := m.Info()
	if info.GetName() != "planner-hello" || info.GetKind() != cpv1.PluginKind_PLUGIN_KIND_PLANNER ||
		info.GetVersion() != "0.1.0" || info.GetContractMajor() != cpv1.ContractMajor ||
		info.GetContractMinor() != cpv1.ContractMinor {
		t.Fatalf("Info = %v", info)
	}
	if m.Transport() != "wasm" {
		t.Errorf("Transport = %q", m.Transport())
	}
	bin, err := os.ReadFile(pluginbuild.BuildWasm(t, helloDir, ""))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(bin); m.SHA256() != hex.EncodeToString(sum[:]) {
		t.Errorf("SHA256 = %s", m.SHA256())
	}

	tests := []struct {
		name string
		req  *cpv1.PlanRequest
		want *cpv1.PlanResponse
	}{
		{"hello finishes", screenReq("hello", 1), &cpv1.PlanResponse{
			Thinking: "hello from planner-hello 0.1.0",
			Result:   &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "hello from planner-hello 0.1.0", Success: true}},
		}},
		{"step 1 taps the center", screenReq("open settings", 1), &cpv1.PlanResponse{
			Thinking: "tap the center of the screen",
			Result: &cpv1.PlanResponse_Action{Action: &cpv1.Action{
				Type: cpv1.ActionType_ACTION_TYPE_TAP, Point: &cpv1.Point{X: 540, Y: 1200},
			}},
		}},
		{"step 2 finishes", screenReq("open settings", 2), &cpv1.PlanResponse{
			Thinking: "tapped the center",
			Result:   &cpv1.PlanResponse_Finish{Finish: &cpv1.Finish{Message: "tapped the center", Success: true}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.Plan(ctx, tt.req)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("Plan = %v, want %v", got, tt.want)
			}
		})
	}
	if err := m.Infer(ctx, &cpv1.InferRequest{}, func(*cpv1.InferChunk) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "not a model") {
		t.Errorf("Infer on a planner: %v", err)
	}
	st := m.Stats()
	if st.Instances != 1 || st.Trapped != 0 || st.Calls < 4 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestVersionFromLdflags(t *testing.T) {
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, helloDir, "-X main.version=2.0.0")
	if v := m.Info().GetVersion(); v != "2.0.0" {
		t.Fatalf("version = %q, want 2.0.0", v)
	}
	resp, err := m.Plan(context.Background(), screenReq("hello", 1))
	if err != nil || resp.GetFinish().GetMessage() != "hello from planner-hello 2.0.0" {
		t.Fatalf("Plan = %v, %v", resp, err)
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	r := newTestRuntime(t, Options{})
	hello, err := os.ReadFile(pluginbuild.BuildWasm(t, helloDir, ""))
	if err != nil {
		t.Fatal(err)
	}
	contract2 := pluginbuild.BuildWasm(t, contract2Dir, "")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"missing", filepath.Join(dir, "nope.wasm"), []string{"load nope.wasm", "no such file"}},
		{"empty", write("planner-empty.wasm", nil), []string{"compile planner-empty.wasm: empty file"}},
		{"random bytes", write("planner-random.wasm", random), []string{"compile planner-random.wasm:", "magic"}},
		{"truncated", write("planner-trunc.wasm", hello[:len(hello)/2]), []string{"compile planner-trunc.wasm:"}},
		{"header only", write("planner-header.wasm", hello[:8]), []string{"load planner-header.wasm: not a cloudphone plugin: missing export cp_abi_version"}},
		{"contract major 2", contract2, []string{"built for contract major version 2, this host speaks 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := r.Load(context.Background(), tt.path)
			if err == nil {
				_ = m.Close(context.Background())
				t.Fatal("Load succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGuestErrorsKeepInstance(t *testing.T) {
	r := newTestRuntime(t, Options{})
	m := loadTest(t, r, panicDir, "")
	ctx := context.Background()
	tests := []struct {
		instruction, want string
	}{
		{"panic", "panic: boom"},
		{"nil", "nil pointer dereference"},
		{"error", "planner refused"},
		{"utf8", "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.instruction, func(t *testing.T) {
			_, err := m.Plan(ctx, screenReq(tt.instruction, 1))
			var ge *GuestError
			if !errors.As(err, &ge) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Plan = %v, want a GuestError containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "plan test-panic: ") {
				t.Errorf("error %q does not name the plugin", err)
			}
		})
	}
	if _, err := m.Plan(ctx, screenReq("ok", 1)); err != nil {
		t.Fatalf("Plan after errors: %v", err)
	}
	if st := m.Stats(); st.Trapped != 0 || st.Instances != 1 || st.Errors != 4 {
		t.Errorf("Stats = %+v, want 1 instance, 4 errors, none trapped", st)
	}
}

func TestConfigureAppliesToEveryInstance(t *testing.T) {
	r := newTestRuntime(t, Options{PoolSize: 4})
	m := loadTest(t, r, panicDir, "")
	ctx := context.Background()
	if err := m.Configure(ctx, []byte(`{"greeting":"hi"}`)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	err := m.Configure(ctx, []byte(`{"bad":true}`))
	if err == nil || !strings.Contains(err.Error(), "configure test-panic: bad settings") {
		t.Fatalf("Configure(bad) = %v", err)
	}
	// Hold several instances at once so that new ones are created; each
	// must have the accepted settings.
	var held []*instance
	for range 4 {
		in, err := m.acquire(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, in)
	}
	for _, in := range held {
		m.release(in)
	}
	for range 8 {
		resp, err := m.Plan(ctx, screenReq("settings", 1))
		if err != nil || resp.GetThinking() != `{"greeting":"hi"}` {
			t.Fatalf("Plan(settings) = %v, %v", resp, err)
		}
	}
	if st := m.Stats(); st.Instances != 4 {
		t.Errorf("Stats = %+v, want 4 instances", st)
	}
}

func TestCloseRefusesCalls(t *testing.T) {
	r := newTestRuntime(t, Options{})
	path := pluginbuild.BuildWasm(t, helloDir, "")
	ctx := context.Background()
	m, err := r.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Plan(ctx, screenReq("hello", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Plan after Close = %v, want ErrClosed", err)
	}
	if st := m.Stats(); st.Instances != 0 {
		t.Errorf("Stats after Close = %+v", st)
	}
}

func TestDecodeReplyMatchesProto(t *testing.T) {
	for _, msg := range []*cpv1.GuestReply{
		{Payload: []byte("abc")},
		{Error: "boom"},
		{},
	} {
		b, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		payload, e, err := decodeReply(b)
		if err != nil || !bytes.Equal(payload, msg.Payload) || e != msg.Error {
			t.Errorf("decodeReply(%v) = %q, %q, %v", msg, payload, e, err)
		}
	}
	if _, _, err := decodeReply([]byte{0x0a, 0x05, 'a'}); err == nil {
		t.Error("decodeReply accepted a truncated reply")
	}
}
