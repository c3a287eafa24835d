package wasmrt

import "testing"

// cpuPerOp starts measuring the process's CPU time; the function it
// returns reports it per operation as cpu-ns/op. On a machine shared with
// other work, CPU time varies much less than wall time (ns/op), which
// includes waiting for a core. Call it just before the timed loop and the
// returned function just after.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() {
		if start == 0 || b.N == 0 {
			return
		}
		b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
