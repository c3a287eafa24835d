package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reload results, the result label of cloudphone_plugin_reloads_total.
const (
	ReloadOK       = "ok"       // the new version serves
	ReloadRejected = "rejected" // the new version failed validation; the old one serves
	ReloadFailed   = "failed"   // the swap failed
)

func (m *Metrics) initPlugins() {
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "plugin_reloads_total",
		Help: "Plugin loads and hot reloads, by plugin and result (ok, rejected, failed).",
	}, []string{"plugin", "result"})
	m.reloadLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "plugin_reload_seconds",
		Help:    "Time from a plugin file change to the new version serving (or being refused).",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	}, []string{"plugin"})
	m.reg.MustRegister(m.reloads, m.reloadLatency)
}

// PluginReload records a plugin load or reload: result is ReloadOK,
// ReloadRejected or ReloadFailed (another value is kept as given), took is
// how long it took (0 is not observed).
func (m *Metrics) PluginReload(plugin, result string, took time.Duration) {
	if m == nil {
		return
	}
	m.reloads.WithLabelValues(plugin, result).Inc()
	if took > 0 {
		m.reloadLatency.WithLabelValues(plugin).Observe(took.Seconds())
	}
}
