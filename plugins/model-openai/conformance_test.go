package main

import (
	"os"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	os.Exit(code)
}

// TestConformance runs the suite with no model server reachable: the plugin
// must load, and inference must fail with an error, not a crash or a hang.
func TestConformance(t *testing.T) {
	plugintest.Model(t, pluginbuild.GoBinary(t, ".", ""),
		plugintest.WithConfig(`{"base_url": "http://127.0.0.1:1/v1", "max_retries": 1, "retry_backoff": "1ms"}`))
}
