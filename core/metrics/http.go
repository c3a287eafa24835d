package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UnmatchedRoute is the route label of a request no pattern matched.
const UnmatchedRoute = "unmatched"

func (m *Metrics) initHTTP() {
	m.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	m.httpLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_seconds",
		Help:    "HTTP request latency by route pattern (streams count until they close).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	}, []string{"route"})
	m.reg.MustRegister(m.httpReqs, m.httpLatency)
}

// routeCache binds a route's counters and histogram once: routes are the
// mux's patterns, a small fixed set.
type routeCache struct{ m sync.Map } // string → *routeMetrics

type routeMetrics struct {
	latency prometheus.Observer
	codes   sync.Map // int → prometheus.Counter
}

func (m *Metrics) route(name string) *routeMetrics {
	if v, ok := m.routes.m.Load(name); ok {
		return v.(*routeMetrics)
	}
	v, _ := m.routes.m.LoadOrStore(name, &routeMetrics{latency: m.httpLatency.WithLabelValues(name)})
	return v.(*routeMetrics)
}

func (m *Metrics) codeCounter(rm *routeMetrics, route string, code int) prometheus.Counter {
	if v, ok := rm.codes.Load(code); ok {
		return v.(prometheus.Counter)
	}
	v, _ := rm.codes.LoadOrStore(code, m.httpReqs.WithLabelValues(route, strconv.Itoa(code)))
	return v.(prometheus.Counter)
}

// ObserveHTTP records one request: route is its pattern
// ("GET /api/v1/tasks/{id}", never the raw path, to bound the series).
func (m *Metrics) ObserveHTTP(route string, code int, took time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = UnmatchedRoute
	}
	rm := m.route(route)
	m.codeCounter(rm, route, code).Inc()
	rm.latency.Observe(took.Seconds())
}

// Middleware records every request next serves. next should be (or end
// in) an http.ServeMux: the route label is the pattern it matched
// (Request.Pattern), or "unmatched". The wrapped ResponseWriter keeps
// Flush (SSE), Hijack (WebSocket) and Unwrap working.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		switch {
		case sw.hijacked:
			code = http.StatusSwitchingProtocols
		case code == 0:
			code = http.StatusOK
		}
		m.ObserveHTTP(r.Pattern, code, time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	code     int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.code == 0 {
			w.code = http.StatusOK
		}
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("metrics: the underlying ResponseWriter cannot hijack")
	}
	c, rw, err := h.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	w.hijacked = true
	return c, rw, nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
