package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "cloudphone"

// Metrics is the registry and its collectors. Make one with New; a nil
// *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	tasks       *prometheus.GaugeVec
	transitions *prometheus.CounterVec
	states      map[string]taskState

	phases    *prometheus.HistogramVec
	phaseObs  [numPhases]prometheus.Observer
	stepTotal prometheus.Observer

	rejections *prometheus.CounterVec
	misses     prometheus.Counter

	reloads       *prometheus.CounterVec
	reloadLatency *prometheus.HistogramVec

	ringDepth  *prometheus.GaugeVec
	sliceShare *prometheus.GaugeVec
	sliceUsed  *prometheus.GaugeVec
	sliceMem   *prometheus.GaugeVec
	sliceLimit *prometheus.GaugeVec

	httpReqs    *prometheus.CounterVec
	httpLatency *prometheus.HistogramVec
	routes      routeCache
}

// New makes a registry with cloudphone's collectors and the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.initTasks()
	m.initSteps()
	m.initSched()
	m.initPlugins()
	m.initVGPU()
	m.initHTTP()
	return m
}

// Registry is the underlying Prometheus registry, for tests and for
// components that register their own collectors.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text (or OpenMetrics)
// format: mount it at GET /metrics. It needs no token.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg,
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
	})
}

// secondsBuckets spans 0.5 ms to about 33 s, doubling: step phases range
// from a cached observation to a slow model.
var secondsBuckets = prometheus.ExponentialBuckets(0.0005, 2, 17)

func (m *Metrics) initSched() {
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "admission_rejections_total",
		Help: "Tasks refused by admission control, by reason.",
	}, []string{"reason"})
	m.misses = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "deadline_misses_total",
		Help: "Admitted tasks that ended after their deadline.",
	})
	m.reg.MustRegister(m.rejections, m.misses)
}

// AdmissionRejected counts a task refused by admission control; reason is
// the scheduler's short reason code (e.g. "overload", "quota", "deadline").
func (m *Metrics) AdmissionRejected(reason string) {
	if m == nil {
		return
	}
	m.rejections.WithLabelValues(reason).Inc()
}

// DeadlineMissed counts an admitted task that ended after its deadline.
func (m *Metrics) DeadlineMissed() {
	if m == nil {
		return
	}
	m.misses.Inc()
}
