// Package plugintest is the conformance suite for cloudphone plugins. A
// plugin author builds the plugin (a .wasm module or a process plugin
// binary) and runs the suite against the built file from a Go test:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Planner(t, "planner-hello.wasm")
//	}
//
// The suite loads the file exactly as the cloudphone host does (wazero for
// .wasm files, hashicorp/go-plugin for executables) and checks that the
// plugin describes itself correctly, accepts its configuration, rejects bad
// input with an error instead of crashing, honours deadlines, and survives
// concurrent calls. Every first-party plugin runs it in `make test`.
//
// What it is not: a functional test of what the plugin does; write those
// against your own logic.
package plugintest
