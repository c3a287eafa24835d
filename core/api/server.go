package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

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

// Server is the HTTP API.
type Server struct {
	Plugins PluginLister
	// Devices, when set, serves /api/v1/devices and /api/v1/backends.
	Devices DeviceLister
	Logger  *slog.Logger

	srv *http.Server
	ln  net.Listener
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /api/v1/plugins", s.listPlugins)
	mux.HandleFunc("GET /api/v1/devices", s.listDevices)
	mux.HandleFunc("GET /api/v1/backends", s.listBackends)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) {
	st := s.Plugins.Status()
	if r.URL.Query().Get("history") != "1" {
		for i := range st {
			st[i].History = nil
		}
	}
	writeJSON(w, http.StatusOK, st)
}

// listDevices serves the pool's devices: a JSON array of objects with id,
// backend, labels, state, lease (null when free) and health.
func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	if s.Devices == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server has no device pool")
		return
	}
	writeJSON(w, http.StatusOK, s.Devices.Devices())
}

// listBackends serves the enabled device backends: plugin state, the
// backend's own status (an unreachable engine shows here), device counts
// and elastic sizing bounds.
func (s *Server) listBackends(w http.ResponseWriter, r *http.Request) {
	if s.Devices == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server has no device pool")
		return
	}
	writeJSON(w, http.StatusOK, s.Devices.Backends())
}

// Listen binds addr. It is separate from Serve so callers learn the real
// address (":0") before serving.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Serve serves until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("serve: call Listen first")
	}
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes the JSON error body every endpoint uses.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
