package wasmrt

import (
	"context"
	"os"
	"testing"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

const intentDir = "../../../wasm-modules/planner-intent"

// BenchmarkPlanIntent is one Plan of the real offline planner
// (wasm-modules/planner-intent) on its benchmark step: the 21 KiB WeChat
// chat list, deciding to open a chat. "uninstrumented" is what the loop
// instrumentation that enforces deadlines costs.
func BenchmarkPlanIntent(b *testing.B) {
	ctx := context.Background()
	xml, err := os.ReadFile(intentDir + "/intent/testdata/wechat_home.xml")
	if err != nil {
		b.Fatal(err)
	}
	req := &cpv1.PlanRequest{Instruction: "打开微信给张三发消息说明天开会", Step: 2,
		Observation: &cpv1.Observation{UiXml: string(xml), CurrentApp: "com.tencent.mm",
			Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}}}
	for _, mode := range []struct {
		name         string
		noInstrument bool
	}{{"wasm", false}, {"wasm-uninstrumented", true}} {
		b.Run(mode.name, func(b *testing.B) {
			benchSkipInstrument = mode.noInstrument
			r := newTestRuntime(b, Options{})
			m := loadTest(b, r, intentDir, "")
			benchSkipInstrument = false
			b.ReportAllocs()
			done := cpuPerOp(b)
			for b.Loop() {
				resp, err := m.Plan(ctx, req)
				if err != nil || resp.GetAction().GetType() != cpv1.ActionType_ACTION_TYPE_TAP {
					b.Fatal(resp, err)
				}
			}
			done()
		})
	}
}
