package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/openautoglm/cloudphone/core/store"
)

// A task's life in the store: an idempotent create, a compare-and-set
// start that only one caller wins, a step event, the end, and an audit row.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	t, created, _ := st.CreateTask(ctx, store.Task{ID: "t-1", Tenant: "acme", Instruction: "打开设置"})
	_, again, _ := st.CreateTask(ctx, store.Task{ID: "t-1", Tenant: "acme", Instruction: "打开设置"})
	fmt.Println(t.State, created, again)

	if _, err := st.UpdateState(ctx, "t-1", store.StateQueued, store.StateRunning); err != nil {
		fmt.Println(err)
	}
	_, err = st.UpdateState(ctx, "t-1", store.StateQueued, store.StateRunning)
	fmt.Println("second start conflicts:", errors.Is(err, store.ErrConflict))

	ev, _ := st.AppendEvent(ctx, store.Event{TaskID: "t-1", Kind: store.KindStep, Step: 1,
		Body: []byte(`{"thinking":"tap Settings"}`), Screenshot: []byte("\x89PNG…")})
	fmt.Println("event", ev.Seq, "screenshot", ev.ScreenshotSHA256[:8])

	t, _ = st.UpdateState(ctx, "t-1", store.StateRunning, store.StateSucceeded)
	fmt.Println(t.State, "after", t.Steps, "step")

	_, _ = st.AppendAudit(ctx, store.AuditEntry{Actor: "alice", Tenant: "acme", Role: "operator",
		Action: "task.submit", Target: "t-1", Result: "ok"})
	fmt.Println("audit chain intact:", st.VerifyAudit(ctx) == nil)
	// Output:
	// queued true false
	// second start conflicts: true
	// event 1 screenshot 27172691
	// succeeded after 1 step
	// audit chain intact: true
}
