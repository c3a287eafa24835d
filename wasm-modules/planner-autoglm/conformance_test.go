package main

import (
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestConformance builds the module and runs the conformance suite on it.
func TestConformance(t *testing.T) {
	plugintest.Planner(t, pluginbuild.BuildWasm(t, ".", ""))
}
