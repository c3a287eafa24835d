package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pluginbuild.Cleanup()
	pluginbuild.CleanupWasm()
	os.Exit(code)
}

// TestConformance runs the model suite in replay mode on the small cassette
// in testdata (hand-written, without keys: they are recomputed).
func TestConformance(t *testing.T) {
	cassette, err := filepath.Abs("testdata/conformance.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	plugintest.Model(t, pluginbuild.GoBinary(t, ".", ""),
		plugintest.WithConfig(`{"mode": "replay", "file": "`+cassette+`"}`))
}
