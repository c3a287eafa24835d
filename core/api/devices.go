package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	"github.com/openautoglm/cloudphone/core/tasks"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// deviceVisible says whether p may see device d: its tenant label is p's
// tenant (or unset: a shared device), or p is an admin.
func deviceVisible(p auth.Principal, d pool.DeviceStatus) bool {
	t := d.Labels["tenant"]
	return (t == "" || p.CanSee(t)) && p.CanUseDevice(d.ID)
}

// visibleDevices is the pool's devices p may see; the lease of a shared
// device held by another tenant is shown without its owner.
func (s *Server) visibleDevices(p auth.Principal) []pool.DeviceStatus {
	out := []pool.DeviceStatus{}
	for _, d := range s.Devices.Devices() {
		if !deviceVisible(p, d) {
			continue
		}
		if d.Lease != nil && !p.CanSee(d.Lease.Tenant) {
			l := *d.Lease
			l.Owner, l.Tenant = "", ""
			d.Lease = &l
		}
		out = append(out, d)
	}
	return out
}

// listDevices serves the pool's devices the caller may see: a JSON array
// of objects with id, backend, labels, state, lease (null when free) and
// health.
func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	if s.Devices == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server has no device pool")
		return
	}
	p, ok := s.caller(r)
	if !ok {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "no credentials")
		return
	}
	writeJSON(w, http.StatusOK, s.visibleDevices(p))
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

// deviceScreenshot serves a fresh screenshot of a device (PNG), observed
// through its backend plugin. Devices the caller may not see are 404.
func (s *Server) deviceScreenshot(w http.ResponseWriter, r *http.Request) {
	if s.Devices == nil || s.Backends == nil {
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "this server has no device pool")
		return
	}
	p, ok := s.caller(r)
	if !ok {
		WriteError(w, http.StatusUnauthorized, "unauthorized", "no credentials")
		return
	}
	id := r.PathValue("id")
	var dev *pool.DeviceStatus
	for _, d := range s.visibleDevices(p) {
		if d.ID == id {
			dev = &d
			break
		}
	}
	if dev == nil {
		WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("device %s not found", id))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	var obs *cpv1.Observation
	devID := strings.TrimPrefix(dev.ID, dev.Backend+"/")
	err := s.Backends.WithDevice(dev.Backend, func(b pluginhost.Device) (err error) {
		obs, err = b.Observe(ctx, &cpv1.ObserveRequest{DeviceId: devID, SkipUi: true})
		return err
	})
	if err != nil {
		WriteError(w, http.StatusBadGateway, "device_error", fmt.Sprintf("observe %s: %v", id, err))
		return
	}
	if len(obs.GetScreenshotPng()) == 0 {
		WriteError(w, http.StatusNotFound, "no_screenshot", fmt.Sprintf("device %s returned no screenshot", id))
		return
	}
	writePNG(w, obs.GetScreenshotPng(), "no-store")
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// screenshot serves a stored step screenshot by its sha256.
func (s *Server) screenshot(w http.ResponseWriter, r *http.Request) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	s.servePNG(w, r, scope(p), r.PathValue("sha256"))
}

// stepScreenshot serves the screenshot of step n of a task.
func (s *Server) stepScreenshot(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("step must be a number from 1, got %q", r.PathValue("n")))
		return
	}
	steps, ok := s.steps(w, r)
	if !ok {
		return
	}
	for _, st := range steps {
		if st.Step == n && st.ScreenshotSHA256 != "" {
			s.servePNG(w, r, "", st.ScreenshotSHA256) // steps() checked the tenant
			return
		}
	}
	WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("task %s has no screenshot for step %d", r.PathValue("id"), n))
}

// servePNG serves a stored screenshot to a caller of tenant ("" for any).
func (s *Server) servePNG(w http.ResponseWriter, r *http.Request, tenant, sha string) {
	if !sha256Hex.MatchString(sha) {
		WriteError(w, http.StatusBadRequest, "invalid_request", "a screenshot is named by its sha256 in lowercase hex (64 characters)")
		return
	}
	png, err := s.Tasks.TenantScreenshot(r.Context(), tenant, sha)
	if err != nil {
		if errors.Is(err, tasks.ErrNotFound) {
			WriteError(w, http.StatusNotFound, "not_found", "screenshot "+sha+" not found")
			return
		}
		s.writeErr(w, r, err)
		return
	}
	writePNG(w, png, "private, max-age=31536000, immutable")
}

func writePNG(w http.ResponseWriter, png []byte, cache string) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
}
