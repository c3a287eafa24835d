package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/node/nodetest"
	"github.com/openautoglm/cloudphone/core/tasks"
	"github.com/openautoglm/cloudphone/core/telemetry"
)

// TestServerTracesTasks: a server node with telemetry.otlp_endpoint runs a
// task submitted over HTTP; the receiver gets its task span (device,
// tenant, final state) with one step span per recorded step and their
// phase spans.
func TestServerTracesTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds plugins and runs a server")
	}
	rc := startReceiver(t)
	cfg := filepath.Join(t.TempDir(), "cloudphone.yaml")
	nodetest.WriteConfig(t, cfg, nodetest.Config{Plugins: nodetest.PluginDir(t), Data: t.TempDir(), Phones: 1,
		Tail: fmt.Sprintf("telemetry:\n  otlp_endpoint: %q\n", rc.url)})
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.New(ctx, node.Options{ConfigFile: cfg, Env: []string{}, Server: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	stop := func() {
		if !closed {
			closed = true
			cancel()
			n.Close(context.Background())
		}
	}
	t.Cleanup(stop)
	if err := n.Start(ctx, true); err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = n.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	url := n.URL()
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "ops", Tenant: "acme", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, in, out any) int {
		t.Helper()
		var rd io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("%s %s: %d: %v", method, path, resp.StatusCode, err)
			}
		}
		return resp.StatusCode
	}
	deadline := time.Now().Add(60 * time.Second)
	for call("GET", "/readyz", nil, nil) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("server not ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var task tasks.Task
	if code := call("POST", "/api/v1/run", map[string]any{"instruction": "打开设置然后打开飞行模式"}, &task); code != http.StatusAccepted {
		t.Fatalf("run: %d", code)
	}
	for task.State != tasks.StateSucceeded {
		if task.State == tasks.StateFailed || time.Now().After(deadline) {
			t.Fatalf("task: %+v", task)
		}
		time.Sleep(50 * time.Millisecond)
		call("GET", "/api/v1/tasks/"+task.ID, nil, &task)
	}
	var steps []tasks.Event
	call("GET", "/api/v1/tasks/"+task.ID+"/steps", nil, &steps)
	stop() // the tracer exports what it holds when the node closes

	spans, _ := rc.snapshot()
	var taskSpans, stepSpans, phaseSpans int
	for _, s := range spans {
		if id, _ := attr(s.GetAttributes(), telemetry.KeyTaskID); id != task.ID {
			continue
		}
		switch name := s.GetName(); {
		case name == "task":
			taskSpans++
			dev, _ := attr(s.GetAttributes(), telemetry.KeyDeviceID)
			tenant, _ := attr(s.GetAttributes(), telemetry.KeyTenant)
			state, _ := attr(s.GetAttributes(), telemetry.KeyState)
			if dev != task.Device || tenant != "acme" || state != "succeeded" {
				t.Errorf("task span: device %q tenant %q state %q, want %q acme succeeded", dev, tenant, state, task.Device)
			}
		case strings.HasPrefix(name, "step "):
			stepSpans++
		default:
			phaseSpans++
		}
	}
	if taskSpans != 1 || stepSpans != len(steps) || phaseSpans < len(steps) {
		t.Errorf("spans of the task: %d task, %d step (want %d), %d phase", taskSpans, stepSpans, len(steps), phaseSpans)
	}
	if out := logs.String(); !strings.Contains(out, `"msg":"task ended"`) || !strings.Contains(out, `"device_id":"`+task.Device+`"`) {
		t.Errorf("no 'task ended' log line with the device id")
	}
}
