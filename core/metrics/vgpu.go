package metrics

import "github.com/prometheus/client_golang/prometheus"

// SliceUsage is one vGPU slice's use over the last scheduling period.
type SliceUsage struct {
	// Share is the slice's guaranteed fraction of GPU time (0–1).
	Share float64
	// Used is the fraction of GPU time it used (0–1; above Share when it
	// borrowed idle capacity).
	Used float64
	// MemoryUsed and MemoryLimit are accelerator memory in bytes.
	MemoryUsed  int64
	MemoryLimit int64
}

func (m *Metrics) initVGPU() {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, []string{"slice"})
	}
	m.ringDepth = gauge("ring_depth", "Inference commands submitted to a slice's ring and not yet completed.")
	m.sliceShare = gauge("slice_gpu_share_ratio", "A slice's guaranteed fraction of GPU time.")
	m.sliceUsed = gauge("slice_gpu_used_ratio", "The fraction of GPU time a slice used over the last period.")
	m.sliceMem = gauge("slice_memory_used_bytes", "Accelerator memory a slice's loaded models take.")
	m.sliceLimit = gauge("slice_memory_limit_bytes", "Accelerator memory a slice may take.")
	m.reg.MustRegister(m.ringDepth, m.sliceShare, m.sliceUsed, m.sliceMem, m.sliceLimit)
}

// SetRingDepth records the number of commands in flight on a slice's ring.
func (m *Metrics) SetRingDepth(slice string, depth int) {
	if m == nil {
		return
	}
	m.ringDepth.WithLabelValues(slice).Set(float64(depth))
}

// SetSliceUsage records a slice's GPU time and memory use.
func (m *Metrics) SetSliceUsage(slice string, u SliceUsage) {
	if m == nil {
		return
	}
	m.sliceShare.WithLabelValues(slice).Set(u.Share)
	m.sliceUsed.WithLabelValues(slice).Set(u.Used)
	m.sliceMem.WithLabelValues(slice).Set(float64(u.MemoryUsed))
	m.sliceLimit.WithLabelValues(slice).Set(float64(u.MemoryLimit))
}

// DeleteSlice drops a slice's series (the slice was removed from the
// config).
func (m *Metrics) DeleteSlice(slice string) {
	if m == nil {
		return
	}
	for _, g := range []*prometheus.GaugeVec{m.ringDepth, m.sliceShare, m.sliceUsed, m.sliceMem, m.sliceLimit} {
		g.DeleteLabelValues(slice)
	}
}
