// Package pluginbuild builds plugins from Go source for tests: process
// plugin binaries (GoBinary) and wasm modules (BuildWasm), each once per
// test-binary run, so tests load real binaries without committing them. A
// plugin author uses it with sdk/plugintest:
//
//	path := pluginbuild.BuildWasm(t, ".", "")
//	plugintest.Planner(t, path)
//
// What it is not: a build system for shipped plugins; those are built by
// the Makefile (`make build`).
package pluginbuild
