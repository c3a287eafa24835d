package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/pool"
)

func TestTaskTransitions(t *testing.T) {
	m := New()
	for _, tr := range []struct{ from, to string }{
		{"", "queued"}, {"", "queued"}, {"", "queued"},
		{"queued", "running"}, {"queued", "running"},
		{"running", "paused"}, {"paused", "running"},
		{"running", "succeeded"}, {"queued", "canceled"},
		{"", "failed"}, // refused at admission: final at once
	} {
		m.TaskTransition(tr.from, tr.to)
	}
	tests := []struct {
		state        string
		gauge, total float64
	}{
		{"queued", 0, 3},
		{"running", 1, 3},
		{"paused", 0, 1},
		{"succeeded", 0, 1},
		{"canceled", 0, 1},
		{"failed", 0, 1},
		{"interrupted", 0, 0},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(m.tasks.WithLabelValues(tt.state)); got != tt.gauge {
			t.Errorf("tasks{state=%q} = %v, want %v", tt.state, got, tt.gauge)
		}
		if got := testutil.ToFloat64(m.transitions.WithLabelValues(tt.state)); got != tt.total {
			t.Errorf("task_transitions_total{state=%q} = %v, want %v", tt.state, got, tt.total)
		}
	}
	m.SetTasks("queued", 7)
	if got := testutil.ToFloat64(m.tasks.WithLabelValues("queued")); got != 7 {
		t.Errorf("after SetTasks: queued = %v, want 7", got)
	}
}

func TestObserveStep(t *testing.T) {
	m := New()
	ev := agent.Event{Kind: agent.EventStep, Timings: &agent.Timings{
		Observe: 3 * time.Millisecond, Plan: time.Millisecond, Act: 2 * time.Millisecond,
		Overhead: 100 * time.Microsecond, Total: 6 * time.Millisecond,
	}}
	m.ObserveEvent(ev)
	m.ObserveEvent(ev)
	m.ObserveEvent(agent.Event{Kind: agent.EventFinished}) // not a step: ignored
	counts := map[string]uint64{"observe": 2, "plan": 2, "infer": 0, "act": 2, "settle": 0, "overhead": 2}
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "cloudphone_step_phase_seconds":
			for _, mt := range mf.GetMetric() {
				phase := mt.GetLabel()[0].GetValue()
				if got := mt.GetHistogram().GetSampleCount(); got != counts[phase] {
					t.Errorf("phase %s: %d samples, want %d", phase, got, counts[phase])
				}
				if phase == "observe" {
					if got := mt.GetHistogram().GetSampleSum(); got < 0.0059 || got > 0.0061 {
						t.Errorf("observe sum = %v s, want 0.006", got)
					}
				}
				seen++
			}
		case "cloudphone_step_seconds":
			if got := mf.GetMetric()[0].GetHistogram().GetSampleCount(); got != 2 {
				t.Errorf("step_seconds: %d samples, want 2", got)
			}
		}
	}
	if seen != len(PhaseNames) {
		t.Errorf("%d phase series, want %d (all bound at start)", seen, len(PhaseNames))
	}
}

func TestCounters(t *testing.T) {
	m := New()
	m.AdmissionRejected("overload")
	m.AdmissionRejected("overload")
	m.AdmissionRejected("quota")
	m.DeadlineMissed()
	m.PluginReload("planner-intent", ReloadOK, 12*time.Millisecond)
	m.PluginReload("planner-intent", ReloadRejected, 0)
	m.SetRingDepth("default", 5)
	m.SetSliceUsage("default", SliceUsage{Share: 0.6, Used: 0.75, MemoryUsed: 1 << 30, MemoryLimit: 4 << 30})
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"rejections overload", testutil.ToFloat64(m.rejections.WithLabelValues("overload")), 2},
		{"rejections quota", testutil.ToFloat64(m.rejections.WithLabelValues("quota")), 1},
		{"deadline misses", testutil.ToFloat64(m.misses), 1},
		{"reloads ok", testutil.ToFloat64(m.reloads.WithLabelValues("planner-intent", ReloadOK)), 1},
		{"reloads rejected", testutil.ToFloat64(m.reloads.WithLabelValues("planner-intent", ReloadRejected)), 1},
		{"ring depth", testutil.ToFloat64(m.ringDepth.WithLabelValues("default")), 5},
		{"share", testutil.ToFloat64(m.sliceShare.WithLabelValues("default")), 0.6},
		{"used", testutil.ToFloat64(m.sliceUsed.WithLabelValues("default")), 0.75},
		{"memory", testutil.ToFloat64(m.sliceMem.WithLabelValues("default")), 1 << 30},
		{"limit", testutil.ToFloat64(m.sliceLimit.WithLabelValues("default")), 4 << 30},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.reloadLatency); n != 1 {
		t.Errorf("reload latency series = %d, want 1 (a 0 duration is not observed)", n)
	}
	m.DeleteSlice("default")
	if n := testutil.CollectAndCount(m.ringDepth); n != 0 {
		t.Errorf("ring depth series after DeleteSlice = %d, want 0", n)
	}
}

type devices []pool.DeviceStatus

func (d devices) Devices() []pool.DeviceStatus { return d }

func TestWatchDevices(t *testing.T) {
	m := New()
	src := devices{
		{ID: "sim/1", Backend: "sim", State: "free", Health: pool.HealthStatus{Status: "healthy"}},
		{ID: "sim/2", Backend: "sim", State: "leased", Health: pool.HealthStatus{Status: "healthy"}},
		{ID: "sim/3", Backend: "sim", State: "free", Health: pool.HealthStatus{Status: "healthy"}},
		{ID: "adb/x", Backend: "adb", State: "offline", Health: pool.HealthStatus{Status: "unhealthy"}},
	}
	if err := m.WatchDevices(src); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchDevices(src); err == nil {
		t.Error("a second WatchDevices succeeded, want an error")
	}
	want := `
# HELP cloudphone_devices Devices by backend, pool state (free, leased, drained, booting, offline, missing, releasing) and health (unknown, healthy, unhealthy).
# TYPE cloudphone_devices gauge
cloudphone_devices{backend="adb",health="unhealthy",state="offline"} 1
cloudphone_devices{backend="sim",health="healthy",state="free"} 2
cloudphone_devices{backend="sim",health="healthy",state="leased"} 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "cloudphone_devices"); err != nil {
		t.Error(err)
	}
}

func TestMiddlewareAndHandler(t *testing.T) {
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no such task", http.StatusNotFound)
			return
		}
		_, _ = io.WriteString(w, "{}")
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the middleware: %v", err)
		}
	})
	mux.Handle("GET /metrics", m.Handler())
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	get("/api/v1/tasks/a")
	get("/api/v1/tasks/b")
	get("/api/v1/tasks/missing")
	get("/stream")
	get("/nowhere")
	code, body := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`cloudphone_http_requests_total{code="200",route="GET /api/v1/tasks/{id}"} 2`,
		`cloudphone_http_requests_total{code="404",route="GET /api/v1/tasks/{id}"} 1`,
		`cloudphone_http_requests_total{code="200",route="GET /stream"} 1`,
		`cloudphone_http_requests_total{code="404",route="unmatched"} 1`,
		`cloudphone_http_request_seconds_count{route="GET /api/v1/tasks/{id}"} 3`,
		`cloudphone_step_phase_seconds_bucket{phase="observe"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.TaskTransition("", "queued")
	m.SetTasks("queued", 1)
	m.ObserveStep(agent.Timings{Observe: time.Millisecond})
	m.ObserveEvent(agent.Event{Kind: agent.EventStep, Timings: &agent.Timings{}})
	m.AdmissionRejected("x")
	m.DeadlineMissed()
	m.PluginReload("p", ReloadOK, time.Millisecond)
	m.SetRingDepth("s", 1)
	m.SetSliceUsage("s", SliceUsage{})
	m.DeleteSlice("s")
	m.ObserveHTTP("r", 200, time.Millisecond)
	if err := m.WatchDevices(devices{}); err != nil {
		t.Error(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	rec := httptest.NewRecorder()
	m.Middleware(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("nil Middleware changed the handler: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Handler: %d, want 404", rec.Code)
	}
}
