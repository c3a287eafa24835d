package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/openautoglm/cloudphone/core/pluginhost"
)

// MaxPluginBytes bounds a plugin uploaded with POST /api/v1/plugins.
const MaxPluginBytes = 256 << 20

// pluginName is what a pushed plugin file may be called: a plain file
// name, no path.
var pluginName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// clusterStatus serves GET /api/v1/cluster: the live nodes, the queue and
// the leaders (cluster.Status).
func (s *Server) clusterStatus(w http.ResponseWriter, r *http.Request) {
	if s.Cluster == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server is not a cluster node")
		return
	}
	st, err := s.Cluster(r.Context())
	if err != nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", fmt.Sprintf("cluster status: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// pushPlugin serves POST /api/v1/plugins?name=NAME[&sha256=HEX]
// [&executable=true]: the raw body is a plugin file, stored in the
// cluster's object store with its sha256 for every node to fetch, verify
// and hot-swap (executable: written with mode 0755, for process plugins),
// or, on a single server, installed in its plugin directory before the
// answer. With sha256 given the upload must have it. A file the host
// refuses answers 422 with the reason.
func (s *Server) pushPlugin(w http.ResponseWriter, r *http.Request) {
	if s.PushPlugin == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server is not a cluster node")
		return
	}
	q := r.URL.Query()
	name := q.Get("name")
	if !pluginName.MatchString(name) || strings.Contains(name, "..") {
		WriteError(w, http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("name must be a plain file name (letters, digits, . _ -), got %q", name))
		return
	}
	want := strings.ToLower(q.Get("sha256"))
	if want != "" {
		if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
			WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("sha256 must be 64 hex digits, got %q", want))
			return
		}
	}
	f, err := os.CreateTemp("", "cloudphone-push-*")
	if err != nil {
		s.writeErr(w, r, fmt.Errorf("plugin upload: %w", err))
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), http.MaxBytesReader(w, r.Body, MaxPluginBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a plugin is at most %d bytes", MaxPluginBytes))
			return
		}
		WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("read plugin upload: %v", err))
		return
	}
	if n == 0 {
		WriteError(w, http.StatusBadRequest, "invalid_request", "the body must be the plugin file")
		return
	}
	if got := hex.EncodeToString(h.Sum(nil)); want != "" && got != want {
		WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("upload has sha256 %s, expected %s", got, want))
		return
	}
	if q.Get("executable") == "true" {
		if err := f.Chmod(0o755); err != nil {
			s.writeErr(w, r, fmt.Errorf("plugin upload: %w", err))
			return
		}
	}
	if err := f.Close(); err != nil {
		s.writeErr(w, r, fmt.Errorf("plugin upload: %w", err))
		return
	}
	obj, err := s.PushPlugin(r.Context(), name, f.Name())
	if errors.Is(err, pluginhost.ErrRejected) {
		WriteError(w, http.StatusUnprocessableEntity, "rejected", err.Error())
		return
	}
	if err != nil {
		s.writeErr(w, r, fmt.Errorf("push plugin %s: %w", name, err))
		return
	}
	writeJSON(w, http.StatusCreated, obj)
}
