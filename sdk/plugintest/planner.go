package plugintest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Planner runs the conformance suite against the planner plugin at path.
func Planner(t *testing.T, path string, opts ...Option) {
	t.Helper()
	o := collect(opts)
	inst := load(t, path, o)
	p, ok := inst.(pluginhost.Planner)
	if !ok {
		t.Fatalf("%s does not implement the planner contract", path)
	}
	plan := func(ctx context.Context, req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return p.Plan(ctx, req)
	}
	t.Run("describe", func(t *testing.T) { checkDescribe(t, inst, cpv1.PluginKind_PLUGIN_KIND_PLANNER, o) })
	t.Run("valid request", func(t *testing.T) {
		resp, err := plan(context.Background(), o.planRequest)
		if err != nil {
			t.Fatalf("Plan(valid request): %v", err)
		}
		checkPlanResponse(t, resp)
	})
	t.Run("bad input", func(t *testing.T) {
		for name, req := range badPlanRequests() {
			resp, err := plan(context.Background(), req)
			if err == nil {
				checkPlanResponse(t, resp)
			}
			// Whatever it answered, the plugin must still serve.
			if _, err := plan(context.Background(), o.planRequest); err != nil {
				t.Fatalf("after bad input %q the planner no longer serves: %v", name, err)
			}
		}
	})
	t.Run("deadline", func(t *testing.T) {
		checkDeadline(t, func(ctx context.Context) error { _, err := p.Plan(ctx, o.planRequest); return err })
	})
	t.Run("concurrent", func(t *testing.T) {
		concurrently(t, o, func() error { _, err := plan(context.Background(), o.planRequest); return err })
	})
}

// checkPlanResponse verifies a response is well-formed: exactly one result,
// and an action with a type.
func checkPlanResponse(t *testing.T, resp *cpv1.PlanResponse) {
	t.Helper()
	switch r := resp.GetResult().(type) {
	case nil:
		t.Error("PlanResponse has no result: set action, infer, finish or error")
	case *cpv1.PlanResponse_Action:
		if r.Action.GetType() == cpv1.ActionType_ACTION_TYPE_UNSPECIFIED {
			t.Error("PlanResponse action has no type")
		}
	case *cpv1.PlanResponse_Infer:
		if len(r.Infer.GetMessages()) == 0 {
			t.Error("PlanResponse infer request has no messages")
		}
	case *cpv1.PlanResponse_Error:
		if r.Error.GetMessage() == "" {
			t.Error("PlanResponse error has no message")
		}
	}
}

func badPlanRequests() map[string]*cpv1.PlanRequest {
	return map[string]*cpv1.PlanRequest{
		"empty":              {},
		"no observation":     {Instruction: "打开微信", Step: 1},
		"negative step":      {Instruction: "open settings", Step: -5, Observation: &cpv1.Observation{}},
		"zero screen":        {Instruction: "tap", Step: 1, Observation: &cpv1.Observation{Screen: &cpv1.ScreenSize{}}},
		"malformed ui xml":   {Instruction: "打开设置", Step: 1, Observation: &cpv1.Observation{UiXml: "<hierarchy><node bounds=\"[1,2][", Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}},
		"invalid utf8":       {Instruction: "\xff\xfe打开\x00", Step: 1},
		"huge instruction":   {Instruction: strings.Repeat("打开微信然后", 20000), Step: 1},
		"garbage state":      {Instruction: "打开设置", Step: 2, State: []byte{0xde, 0xad, 0xbe, 0xef}},
		"model output error": {Instruction: "打开设置", Step: 1, ModelOutput: &cpv1.ModelOutput{Error: "model unavailable"}},
		"garbage model reply": {Instruction: "打开设置", Step: 1,
			ModelOutput: &cpv1.ModelOutput{Text: "<think>?</think><answer>do(action=\"Tap\", element=[[[</answer>"}},
	}
}

// concurrently makes o.concurrency × o.calls calls and fails on any error.
func concurrently(t *testing.T, o *options, call func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, o.concurrency)
	for i := 0; i < o.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < o.calls; j++ {
				if err := call(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call failed: %v", err)
	}
}
