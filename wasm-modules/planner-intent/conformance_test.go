package main

import (
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestConformance builds the module and runs the cloudphone conformance
// suite against it, exactly as the host will load it: once with the
// suite's sample request, once with a real 21 KiB WeChat screen, so the
// concurrency check runs the planner's real work.
func TestConformance(t *testing.T) {
	path := pluginbuild.BuildWasm(t, ".", "")
	t.Run("sample", func(t *testing.T) { plugintest.Planner(t, path) })
	t.Run("wechat", func(t *testing.T) {
		xml, err := os.ReadFile("intent/testdata/wechat_home.xml")
		if err != nil {
			t.Fatal(err)
		}
		plugintest.Planner(t, path, plugintest.WithPlanRequest(&cpv1.PlanRequest{
			TaskId: "conformance", Instruction: "给张三发消息说明天开会", Step: 2,
			Observation: &cpv1.Observation{UiXml: string(xml), CurrentApp: "com.tencent.mm",
				Screen: &cpv1.ScreenSize{Width: 1080, Height: 2400}},
		}))
	})
}
