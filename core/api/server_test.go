package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pool"
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
