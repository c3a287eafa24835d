package vgpu

import (
	"testing"
	"time"
)

func TestStepDeadline(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		name       string
		task       time.Time
		remaining  int
		afterInfer time.Duration
		want       time.Time
	}{
		{"no task deadline", time.Time{}, 5, time.Second, time.Time{}},
		{"equal share", now.Add(10 * time.Second), 5, 0, now.Add(2 * time.Second)},
		{"less the rest of the step", now.Add(10 * time.Second), 5, 500 * time.Millisecond, now.Add(1500 * time.Millisecond)},
		{"last step", now.Add(3 * time.Second), 1, time.Second, now.Add(2 * time.Second)},
		{"zero steps count as one", now.Add(3 * time.Second), 0, 0, now.Add(3 * time.Second)},
		{"already late", now.Add(-time.Second), 3, 0, now},
		{"no time for inference", now.Add(time.Second), 2, time.Second, now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StepDeadline(now, tc.task, tc.remaining, tc.afterInfer); !got.Equal(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if DeadlineUnixMs(time.Time{}) != 0 || DeadlineUnixMs(now) != 1_000_000 {
		t.Fatal("DeadlineUnixMs")
	}
}

func TestRemainingSteps(t *testing.T) {
	tests := []struct{ step, typical, maxSteps, want int }{
		{1, 0, 0, 2},    // unknown: at least this one and one more
		{1, 10, 30, 10}, // typical length
		{8, 10, 30, 3},
		{12, 10, 30, 2}, // past typical: one more after this
		{29, 10, 30, 2}, // capped by the limit
		{30, 10, 30, 1}, // the last allowed step
		{1, 50, 20, 20}, // limit below typical
		{0, 0, 0, 2},    // step 0 counts as 1
	}
	for _, tc := range tests {
		if got := RemainingSteps(tc.step, tc.typical, tc.maxSteps); got != tc.want {
			t.Errorf("RemainingSteps(%d, %d, %d) = %d, want %d", tc.step, tc.typical, tc.maxSteps, got, tc.want)
		}
	}
}
