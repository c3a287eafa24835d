package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openautoglm/cloudphone/core/pool"
)

// DeviceSource lists devices; *pool.Pool is one.
type DeviceSource interface {
	Devices() []pool.DeviceStatus
}

var devicesDesc = prometheus.NewDesc(Namespace+"_devices",
	"Devices by backend, pool state (free, leased, drained, booting, offline, missing, releasing) and health (unknown, healthy, unhealthy).",
	[]string{"backend", "state", "health"}, nil)

// deviceCollector counts a DeviceSource's devices at scrape time, so the
// figures are never stale and the pool's hot paths record nothing.
type deviceCollector struct{ src DeviceSource }

func (c deviceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- devicesDesc }

func (c deviceCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ backend, state, health string }
	counts := map[key]int{}
	for _, d := range c.src.Devices() {
		counts[key{d.Backend, d.State, d.Health.Status}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(devicesDesc, prometheus.GaugeValue, float64(n), k.backend, k.state, k.health)
	}
}

// WatchDevices makes cloudphone_devices count src's devices at every
// scrape. Call it once (a second call returns an error).
func (m *Metrics) WatchDevices(src DeviceSource) error {
	if m == nil {
		return nil
	}
	if err := m.reg.Register(deviceCollector{src: src}); err != nil {
		return fmt.Errorf("metrics: watch devices: %w", err)
	}
	return nil
}
