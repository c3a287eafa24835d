package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type fakePlugins struct{}

func (fakePlugins) Status() []pluginhost.Status { return nil }

type fakeDevices struct{}

func (fakeDevices) Devices() []pool.DeviceStatus {
	return []pool.DeviceStatus{{ID: "device-sim/127.0.0.1:6100", Backend: "device-sim", Labels: map[string]string{"android": "14"},
		State: pool.StateFree, Health: pool.HealthStatus{Status: pool.HealthHealthy}}}
}

func (fakeDevices) Backends() []pool.BackendStatus {
	return []pool.BackendStatus{{Name: "device-docker", Plugin: "active", Status: "docker: connection refused"}}
}

func TestDeviceRoutes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		devices DeviceLister
		path    string
		status  int
		keys    []string
	}{
		{"devices", fakeDevices{}, "/api/v1/devices", http.StatusOK, []string{"id", "backend", "labels", "state", "lease", "health"}},
		{"backends", fakeDevices{}, "/api/v1/backends", http.StatusOK, []string{"name", "plugin", "ok", "status", "devices"}},
		{"no pool", nil, "/api/v1/devices", http.StatusServiceUnavailable, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{Plugins: fakePlugins{}, Devices: tc.devices}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.keys == nil {
				return
			}
			var rows []map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil || len(rows) != 1 {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			for _, k := range tc.keys {
				if _, ok := rows[0][k]; !ok {
					t.Errorf("object lacks %q: %v", k, rows[0])
				}
			}
		})
	}
}

// screenBackend answers every observation with a fixed PNG.
type screenBackend struct{}

func (screenBackend) WithDevice(name string, fn func(pluginhost.Device) error) error {
	if name != "device-sim" {
		return pluginhost.ErrNoPlugin
	}
	return fn(shotDevice{})
}

type shotDevice struct{ pluginhost.Device }

func (shotDevice) Observe(_ context.Context, req *cpv1.ObserveRequest) (*cpv1.Observation, error) {
	if req.GetDeviceId() != "127.0.0.1:6100" {
		return nil, fmt.Errorf("no device %q", req.GetDeviceId())
	}
	return &cpv1.Observation{ScreenshotPng: []byte("\x89PNG fresh")}, nil
}

type tenantDevices struct{ fakeDevices }

func (tenantDevices) Devices() []pool.DeviceStatus {
	return []pool.DeviceStatus{{ID: "device-sim/127.0.0.1:6100", Backend: "device-sim", Labels: map[string]string{"tenant": "b"}}}
}

func TestDeviceScreenshot(t *testing.T) {
	for _, tc := range []struct {
		name    string
		devices DeviceLister
		p       *auth.Principal
		path    string
		status  int
	}{
		{"fresh PNG, id escaped", fakeDevices{}, nil, "/api/v1/devices/device-sim%2F127.0.0.1:6100/screenshot", 200},
		{"unknown device", fakeDevices{}, nil, "/api/v1/devices/device-sim%2Fnope/screenshot", 404},
		{"another tenant's device", tenantDevices{}, &auth.Principal{Subject: "x", Tenant: "a", Role: auth.RoleOperator}, "/api/v1/devices/device-sim%2F127.0.0.1:6100/screenshot", 404},
		{"its own tenant's device", tenantDevices{}, &auth.Principal{Subject: "x", Tenant: "b", Role: auth.RoleViewer}, "/api/v1/devices/device-sim%2F127.0.0.1:6100/screenshot", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{Devices: tc.devices, Backends: screenBackend{}}
			if tc.p != nil {
				p := *tc.p
				s.Auth = func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
					})
				}
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.status)
			}
			if tc.status == 200 && (rec.Header().Get("Content-Type") != "image/png" || rec.Body.String() != "\x89PNG fresh") {
				t.Fatalf("body %q type %s", rec.Body, rec.Header().Get("Content-Type"))
			}
		})
	}
}
