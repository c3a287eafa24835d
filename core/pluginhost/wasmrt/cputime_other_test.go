//go:build !unix

package wasmrt

func processCPU() int64 { return 0 }
