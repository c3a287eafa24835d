package node

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// Targets of issue 8 on a 2-core machine.
const (
	targetGetPerSec    = 10000
	targetSubmitPerSec = 2000
)

// benchServer starts a server node with no device backends (submitted
// tasks stay queued: accepted and durable) and returns an operator's
// client.
func benchServer(b *testing.B) client {
	b.Helper()
	n, url, _ := startServer(b, b.TempDir(), b.TempDir(), "")
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "bench", Tenant: "default", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return client{t: b, url: url, token: tok}
}

// cpuTime is the CPU time this process (server and client) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load runs fn from conc goroutines b.N times in all, over keep-alive
// connections, and returns the rate; any error or unexpected status fails
// the benchmark. It also reports cpu_us/op, the CPU time server and client
// together spent per request, and est_2core/s, the rate two dedicated
// cores would sustain at that cost: on a shared machine the wall-clock rate
// says more about the neighbours than about the server.
func load(b *testing.B, conc int, fn func(hc *http.Client) error) (rate, est float64) {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	var next, errs atomic.Int64
	var firstErr atomic.Value
	done := make(chan struct{})
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range conc {
		go func() {
			defer func() { done <- struct{}{} }()
			for next.Add(1) <= int64(b.N) {
				if err := fn(hc); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	for range conc {
		<-done
	}
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	perOp := cpu / time.Duration(b.N)
	est = 2 * float64(time.Second) / float64(perOp)
	b.ReportMetric(float64(perOp.Nanoseconds())/1e3, "cpu_us/op")
	b.ReportMetric(est, "est_2core/s")
	if n := errs.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed; first: %v", n, b.N, firstErr.Load())
	}
	return float64(b.N) / el.Seconds(), est
}

func expect(hc *http.Client, req *http.Request, status int) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: %d, want %d", req.Method, req.URL.Path, resp.StatusCode, status)
	}
	return nil
}

// BenchmarkAPI measures, against 127.0.0.1 over HTTP/1.1 keep-alive with
// 32 concurrent clients (CLOUDPHONE_BENCH_CONC sets another number):
// unauthenticated GET /healthz (the HTTP stack's ceiling, the baseline),
// authenticated GET /api/v1/tasks/{id} (token check + store read), and
// authenticated best-effort POST /api/v1/run (accepted, durable in the
// store, queued, audited). Each reports req/s and x_target (the rate over
// the issue's target: ≥ 1 meets it), and x_target_2core, the same for the
// rate two dedicated cores sustain at the measured CPU cost per request
// (see load); the task routes also report x_healthz, their rate over the
// baseline's in the same process.
func BenchmarkAPI(b *testing.B) {
	c := benchServer(b)
	var task tasks.Task
	if code := c.do("POST", "/api/v1/run", map[string]any{"instruction": "打开设置"}, &task); code != 202 {
		b.Fatalf("seed task: %d", code)
	}
	conc := 32
	if c := os.Getenv("CLOUDPHONE_BENCH_CONC"); c != "" {
		conc, _ = strconv.Atoi(c)
	}
	var healthz float64
	b.Run("healthz", func(b *testing.B) {
		healthz, _ = load(b, conc, func(hc *http.Client) error {
			req, _ := http.NewRequest("GET", c.url+"/healthz", nil)
			return expect(hc, req, 200)
		})
		b.ReportMetric(healthz, "req/s")
	})
	b.Run("get_task", func(b *testing.B) {
		rate, est := load(b, conc, func(hc *http.Client) error {
			req, _ := http.NewRequest("GET", c.url+"/api/v1/tasks/"+task.ID, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			return expect(hc, req, 200)
		})
		b.ReportMetric(rate, "req/s")
		b.ReportMetric(rate/targetGetPerSec, "x_target")
		b.ReportMetric(est/targetGetPerSec, "x_target_2core")
		if healthz > 0 {
			b.ReportMetric(rate/healthz, "x_healthz")
		}
	})
	b.Run("submit", func(b *testing.B) {
		body := []byte(`{"instruction":"打开设置然后打开飞行模式"}`)
		rate, est := load(b, conc, func(hc *http.Client) error {
			req, _ := http.NewRequest("POST", c.url+"/api/v1/run", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("Content-Type", "application/json")
			return expect(hc, req, 202)
		})
		b.ReportMetric(rate, "req/s")
		b.ReportMetric(rate/targetSubmitPerSec, "x_target")
		b.ReportMetric(est/targetSubmitPerSec, "x_target_2core")
		if healthz > 0 {
			b.ReportMetric(rate/healthz, "x_healthz")
		}
	})
}
