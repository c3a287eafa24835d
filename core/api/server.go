package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
)

// PluginLister is what the API needs of the plugin host.
type PluginLister interface {
	Status() []pluginhost.Status
}

// DeviceLister is what the API needs of the device pool.
type DeviceLister interface {
	Devices() []pool.DeviceStatus
	Backends() []pool.BackendStatus
}

// DeviceBackends reaches a device's backend plugin for a fresh
// observation (pluginhost.Host).
type DeviceBackends interface {
	WithDevice(name string, fn func(pluginhost.Device) error) error
}

// Server is the HTTP API. Fields left nil leave their routes answering 503
// (or, for Console and Metrics, not mounted).
type Server struct {
	Plugins PluginLister
	// Devices, when set, serves /api/v1/devices and /api/v1/backends.
	Devices DeviceLister
	// Backends serves GET /api/v1/devices/{id}/screenshot.
	Backends DeviceBackends
	// Tasks serves the task routes.
	Tasks TaskService
	// Slices serves GET /api/v1/slices: any JSON-encodable status.
	Slices func() any
	// Cluster serves GET /api/v1/cluster: the cluster's status
	// (cluster.Status); nil answers 503.
	Cluster func(ctx context.Context) (any, error)
	// PushPlugin serves POST /api/v1/plugins: stores the plugin file at
	// path under name in the cluster (cluster.Node.PushPlugin), or, on a
	// server that is not a cluster node, installs it in its own plugin
	// directory (pluginhost.Host.Install); nil answers 503. An error
	// wrapping pluginhost.ErrRejected answers 422.
	PushPlugin func(ctx context.Context, name, path string) (cluster.PluginObject, error)
	// Auth wraps every route (core/auth's middleware): it authenticates,
	// authorizes by route, and puts the Principal in the context. Nil
	// serves every request as an admin of tenant "default" (auth off).
	Auth func(http.Handler) http.Handler
	// Extra mounts routes served by other packages (auth's tokens and
	// device registration, the audit log, the device stream): pattern →
	// handler. Their patterns must be in the OpenAPI document.
	Extra map[string]http.Handler
	// Instrument wraps the route mux (inside Auth, so it sees the matched
	// pattern): the HTTP metrics middleware.
	Instrument func(http.Handler) http.Handler
	// Credentials serves POST /api/v1/tokens and /api/v1/apikeys (admin);
	// Keys lists the stored API keys.
	Credentials Credentials
	Keys        KeyLister
	// Audit serves GET /api/v1/audit (admin; the auth middleware checks).
	Audit http.Handler
	// Metrics serves /metrics; Console serves "/" (both public).
	Metrics http.Handler
	Console http.Handler
	// Ready reports whether the node is ready (/readyz): nil when it is.
	Ready func() error
	// MaxBodyBytes bounds request bodies (413 beyond; default 1 MiB).
	MaxBodyBytes int64
	// TLS, when set, serves HTTPS.
	TLS *tls.Config
	// KeepAlive is the SSE keepalive interval (default 15s).
	KeepAlive time.Duration
	Logger    *slog.Logger

	srv *http.Server
	ln  net.Listener
}

// route is one entry of the API's route table.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// routes is the route table the mux is built from (and the OpenAPI test
// reads).
func (s *Server) routes() []route {
	rs := []route{
		{"GET /healthz", s.healthz},
		{"GET /readyz", s.readyz},
		{"GET /api/v1/openapi.json", serveOpenAPI},
		{"GET /api/v1/plugins", s.listPlugins},
		{"GET /api/v1/devices", s.listDevices},
		{"GET /api/v1/devices/{id}/screenshot", s.deviceScreenshot},
		{"GET /api/v1/backends", s.listBackends},
		{"GET /api/v1/slices", s.listSlices},
		{"GET /api/v1/cluster", s.clusterStatus},
		{"POST /api/v1/plugins", s.pushPlugin},
		{"POST /api/v1/run", s.run},
		{"GET /api/v1/tasks", s.listTasks},
		{"GET /api/v1/tasks/{id}", s.getTask},
		{"POST /api/v1/tasks/{id}/cancel", s.cancelTask},
		{"POST /api/v1/tasks/{id}/confirm", s.confirmTask},
		{"POST /api/v1/tasks/{id}/resume", s.resumeTask},
		{"GET /api/v1/tasks/{id}/events", s.taskEvents},
		{"GET /api/v1/tasks/{id}/steps", s.taskSteps},
		{"GET /api/v1/tasks/{id}/steps/{n}/screenshot", s.stepScreenshot},
		{"GET /api/v1/screenshots/{sha256}", s.screenshot},
	}
	if s.Metrics != nil {
		rs = append(rs, route{"GET /metrics", s.Metrics.ServeHTTP})
	}
	rs = append(rs, s.adminRoutes()...)
	if s.Audit != nil {
		rs = append(rs, route{"GET /api/v1/audit", s.Audit.ServeHTTP})
	}
	for p, h := range s.Extra {
		rs = append(rs, route{p, h.ServeHTTP})
	}
	return rs
}

// Handler returns the API's routes behind the auth middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.HandleFunc(r.pattern, r.handler)
	}
	if s.Console != nil {
		mux.Handle("/", s.Console)
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		})
	}
	var h http.Handler = mux
	if s.Instrument != nil {
		h = s.Instrument(h)
	}
	if s.Auth != nil {
		h = s.Auth(h)
	}
	return h
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is 200 when the node says it is ready (store open, plugins
// loaded, pool synced), 503 with the reason otherwise.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	if s.Plugins == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server has no plugin host")
		return
	}
	st := s.Plugins.Status()
	if r.URL.Query().Get("history") != "1" {
		for i := range st {
			st[i].History = nil
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listSlices(w http.ResponseWriter, _ *http.Request) {
	if s.Slices == nil {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	writeJSON(w, http.StatusOK, s.Slices())
}

// Listen binds addr. It is separate from Serve so callers learn the real
// address (":0") before serving.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve serves until ctx ends, then shuts down gracefully: new requests
// are refused, in-flight ones (and event streams) get 5 s to finish.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("serve: call Listen first")
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
		<-errc
		return nil
	}
}
