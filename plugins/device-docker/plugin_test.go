package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/sdk/plugintest"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// TestConformance runs the conformance suite on the built plugin with a
// provisioned device: the plugin process adopts the container an
// in-process instance provisioned, and the suite observes, acts and runs
// shell commands on it.
func TestConformance(t *testing.T) {
	pm := startPodman(t)
	ctx := testCtx(t, 3*time.Minute)
	// "command": [] runs the image's own command, a phone that ignores
	// the requested 720x1280: the device reports the size it really has.
	cfg := testConfig(t, pm.endpoint, "conformance", func(c map[string]any) { c["command"] = []string{} })
	d := newTestDocker(t, cfg)
	info, err := d.Provision(ctx, &cpv1.ProvisionRequest{})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if s := info.GetScreen(); s.GetWidth() != 1080 || s.GetHeight() != 2400 || info.GetLabels()["resolution"] != "1080x2400" {
		t.Errorf("Provision: screen %v, labels %v; want the phone's own 1080x2400", s, info.GetLabels())
	}
	t.Cleanup(func() { _, _ = d.Release(context.Background(), &cpv1.ReleaseRequest{DeviceId: info.GetId()}) })
	plugintest.Device(t, pluginbuild.GoBinary(t, ".", ""), plugintest.WithConfig(cfg), plugintest.WithLogger(testLog))
}

// TestEngineUnreachable: with no engine at the endpoint the plugin loads,
// is configured, lists no devices with the reason in backend_status and
// refuses to provision; the conformance suite passes.
func TestEngineUnreachable(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	endpoint := "unix://" + filepath.Join(t.TempDir(), "no-engine.sock")
	cfg := `{"endpoint": "` + endpoint + `", "adb_key": "` + filepath.Join(t.TempDir(), "adbkey") + `"}`
	bin := pluginbuild.GoBinary(t, ".", "")
	p, err := procrt.Load(ctx, bin, procrt.Options{Logger: testLog})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	if err := p.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	list, err := p.List(ctx, &cpv1.ListRequest{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := "docker engine unreachable at " + endpoint + ": "
	if !strings.HasPrefix(list.GetBackendStatus(), want) || len(list.GetDevices()) != 0 {
		t.Errorf("List: status %q, %d devices; want status starting %q", list.GetBackendStatus(), len(list.GetDevices()), want)
	}
	if h, err := p.Health(ctx, &cpv1.HealthRequest{}); err != nil || h.GetOk() || !strings.HasPrefix(h.GetMessage(), want) {
		t.Errorf("Health: %v, %v", h, err)
	}
	if _, err := p.Provision(ctx, &cpv1.ProvisionRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("Provision: %v, want Unavailable", err)
	}
	if err := p.Configure(ctx, []byte(`{"bogus": 1}`)); err == nil {
		t.Error("Configure accepted an unknown key")
	}
	plugintest.Device(t, bin, plugintest.WithConfig(cfg), plugintest.WithLogger(testLog))
}

// TestAPIVersion: the client negotiates down to the engine's version
// (podman 4.3 serves 1.41) and pins a version below its own minimum
// rather than refusing the engine.
func TestAPIVersion(t *testing.T) {
	for _, c := range []struct{ engine, pin, want string }{
		{"1.41", "", "/v1.41/"},
		{"1.30", "", "/v1.30/"},
		{"1.47", "1.43", "/v1.43/"},
	} {
		t.Run(c.engine+"-"+c.pin, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.URL.Path)
				mu.Unlock()
				w.Header().Set("Api-Version", c.engine)
				switch {
				case r.URL.Path == "/_ping":
					_, _ = w.Write([]byte("OK"))
				case strings.HasSuffix(r.URL.Path, "/containers/json"):
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte("[]"))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			e := newEngine("tcp://"+strings.TrimPrefix(srv.URL, "http://"), c.pin, testLog)
			defer e.Close()
			if _, err := e.managed(context.Background(), "x"); err != nil {
				t.Fatalf("list containers: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			last := paths[len(paths)-1]
			if !strings.HasPrefix(last, c.want) {
				t.Errorf("request paths %v; want the last under %s", paths, c.want)
			}
		})
	}
}

// TestEmulatorPortsAvoided: when the engine publishes adb on one of the
// ports the adb server scans for emulators (5555–5585), the container is
// replaced until it does not (a fake engine, since a real one picks from
// the ephemeral range).
func TestEmulatorPortsAvoided(t *testing.T) {
	var mu sync.Mutex
	created, removed := 0, []string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Content-Type", "application/json")
		p := strings.TrimPrefix(r.URL.Path, "/v1.41")
		switch {
		case p == "/_ping" || r.URL.Path == "/_ping":
			_, _ = w.Write([]byte("OK"))
		case p == "/containers/create":
			created++
			_, _ = fmt.Fprintf(w, `{"Id":"c%d","Warnings":[]}`, created)
		case strings.HasSuffix(p, "/start"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(p, "/json"):
			id := strings.TrimSuffix(strings.TrimPrefix(p, "/containers/"), "/json")
			port := "40000"
			if id != "c3" {
				port = "5560"
			}
			_, _ = fmt.Fprintf(w, `{"Id":%q,"State":{"Status":"running","Running":true},"NetworkSettings":{"Ports":{"6100/tcp":[{"HostIp":"127.0.0.1","HostPort":%q}]}}}`, id, port)
		case r.Method == http.MethodDelete:
			removed = append(removed, strings.TrimPrefix(p, "/containers/"))
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	eng := newEngine("tcp://"+strings.TrimPrefix(srv.URL, "http://"), "", testLog)
	defer eng.Close()
	d := newDocker(testLog)
	defer d.Close()
	cid, port, err := d.start(context.Background(), eng, createSpec{name: "x", image: "img", adbPort: 6100})
	if err != nil || cid != "c3" || port != 40000 {
		t.Fatalf("start: %s, %d, %v; want c3 on 40000", cid, port, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(removed, ",") != "c1,c2" {
		t.Errorf("removed %v, want c1,c2", removed)
	}
}
