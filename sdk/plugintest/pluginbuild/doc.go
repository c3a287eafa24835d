// Package buildtest builds test programs (process plugins, wasm guests) from
// Go source once per test-binary run, so that tests load real binaries
// without committing them. GoBinary builds host-platform executables.
//
// What it is not: a build system for shipped plugins; those are built by
// the Makefile and CI.
package buildtest
