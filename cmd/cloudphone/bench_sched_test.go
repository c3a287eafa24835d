package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBenchSched runs `bench sched --json` on a reduced seeded workload
// and checks its rows: the keys, one row per policy and utilization, and
// the EDF properties (no admitted task misses at utilization ≤ 0.95;
// fewer misses than FIFO and RM under overload). A property test over a
// seeded simulation, not a timing test.
func TestBenchSched(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"bench", "sched", "--json", "--seed", "3", "--tasks", "1200",
		"--rate", "2000", "--real-seconds", "0.2"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench sched: %v\n%s", err, out.String())
	}
	type key struct {
		policy string
		u      float64
	}
	rows := map[key]map[string]any{}
	var real map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if row["mode"] == "real" {
			real = row
			continue
		}
		for _, k := range []string{"policy", "utilization", "miss_rate", "rejected_rate", "p99_lateness_ms",
			"p99_dispatch_us", "throughput", "p50_lateness_ms", "p50_dispatch_us", "gpu_utilization", "admitted_misses"} {
			if _, ok := row[k]; !ok {
				t.Fatalf("row %s lacks %q", line, k)
			}
		}
		k := key{row["policy"].(string), row["utilization"].(float64)}
		if rows[k] != nil {
			t.Fatalf("two rows for %v", k)
		}
		rows[k] = row
	}
	if len(rows) != 15 {
		t.Fatalf("%d rows, want 3 policies × 5 utilizations", len(rows))
	}
	for _, u := range benchSchedUtilizations {
		edf, fifo, rm := rows[key{"edf", u}], rows[key{"fifo", u}], rows[key{"rm", u}]
		if edf == nil || fifo == nil || rm == nil {
			t.Fatalf("utilization %.2f: a policy is missing", u)
		}
		if tp := edf["throughput"].(float64); tp <= 0 {
			t.Fatalf("utilization %.2f: edf throughput %v", u, tp)
		}
		if fifo["rejected_rate"].(float64) != 0 || rm["rejected_rate"].(float64) != 0 {
			t.Fatalf("utilization %.2f: fifo or rm rejected tasks without admission control", u)
		}
		if u <= 0.95 {
			if n := edf["admitted_misses"].(float64); n != 0 {
				t.Fatalf("utilization %.2f: %v admitted edf tasks missed", u, n)
			}
			continue
		}
		e := edf["miss_rate"].(float64)
		if e >= fifo["miss_rate"].(float64) || e >= rm["miss_rate"].(float64) {
			t.Fatalf("utilization %.2f: edf misses %.4f, fifo %.4f, rm %.4f", u, e, fifo["miss_rate"], rm["miss_rate"])
		}
	}
	if real == nil || real["tasks"].(float64) != 400 || real["p99_dispatch_us"].(float64) <= 0 {
		t.Fatalf("real-clock row %v", real)
	}
}

func TestBenchSchedBadFlags(t *testing.T) {
	root := newRoot()
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"bench", "sched", "--tasks", "0"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "--tasks") {
		t.Fatalf("got %v, want an error naming --tasks", err)
	}
}
