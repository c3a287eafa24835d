package sched_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/sched"
	"github.com/openautoglm/cloudphone/core/sched/sim"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// A task that fits is dispatched onto a free phone; one whose deadline
// cannot be met is refused with the estimate and the reason.
func Example() {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	cfg := config.Default().Sched // edf, admission, degradation, 2s a step until learned
	s, err := sched.New(sched.Options{
		Config:  cfg,
		Devices: sim.NewDevices(1, nil), // core/pool through sched.PoolDevices in the server
		Clock:   fixedClock{now},
		Spawn:   func(f func()) { f() },
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Run: func(_ context.Context, d *sched.Dispatched, l sched.Lease) {
			fmt.Printf("run %s on %s with %s, predicted to end at %s\n",
				d.Task.ID, l.(*sim.DevLease).Device(), d.Planner, d.Predicted.Format("15:04:05"))
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Submit(sched.Task{ID: "t1", Planner: "planner-autoglm", EstSteps: 5, Deadline: now.Add(time.Minute)})
	s.DispatchNow(context.Background())

	err = s.Submit(sched.Task{ID: "t2", Planner: "planner-autoglm", EstSteps: 5, Deadline: now.Add(15 * time.Second)})
	var rej *sched.RejectError
	if errors.As(err, &rej) {
		fmt.Printf("refused: wait %s + run %s\n%v\n", rej.Wait, rej.Run, err)
	}
	// Output:
	// run t1 on sim/0 with planner-autoglm, predicted to end at 09:00:10
	// refused: wait 10s + run 10s
	// task t2 rejected: predicted to finish in 20s (wait 10s + 5 steps × 2s on planner-autoglm), 5s after its deadline
}
