package agent

import (
	"context"
	"fmt"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// SettleOptions tune the wait for the screen after an action. The agent
// watches the UI hierarchy (cheap: no screenshot) until it has changed from
// what the action saw and then reads the same twice in a row, or until
// Timeout; only then does it take the full observation for the next step.
// There is no fixed sleep: on a device that updates at once, settling costs
// two UI reads.
type SettleOptions struct {
	// Timeout bounds the wait (default 3s); the task goes on after it.
	Timeout time.Duration
	// Poll is the first pause between reads, doubled up to 200ms (default 20ms).
	Poll time.Duration
	// Unchanged is how long a screen that has not changed at all is given
	// before the agent concludes the action changed nothing visible
	// (default 600ms).
	Unchanged time.Duration
}

// observe takes a full observation, retrying transient device errors.
func (ru *run) observe(ctx context.Context, step int) (*cpv1.Observation, error) {
	var err error
	for try := 1; try <= DefaultObserveTries; try++ {
		start := ru.r.now()
		var obs *cpv1.Observation
		obs, err = ru.dev.Observe(ctx, &cpv1.ObserveRequest{SkipScreenshot: !ru.screenshots})
		ru.lastObserve += ru.r.now().Sub(start)
		if err == nil {
			return obs, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		ru.emit(Event{Kind: EventRetry, Step: step, Error: fmt.Sprintf("observe (try %d): %v", try, err)})
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Duration(try) * 100 * time.Millisecond):
		}
	}
	return nil, err
}

// settle waits for the screen to settle after a, then observes.
func (ru *run) settle(ctx context.Context, a *cpv1.Action, before *cpv1.Observation, t *Timings) (*cpv1.Observation, error) {
	if a.GetType() != cpv1.ActionType_ACTION_TYPE_WAIT && a.GetType() != cpv1.ActionType_ACTION_TYPE_NOTE &&
		a.GetType() != cpv1.ActionType_ACTION_TYPE_TAKE_OVER {
		start := ru.r.now()
		ru.waitStable(ctx, before.GetUiXml())
		t.Settle = ru.r.now().Sub(start)
	}
	return ru.observe(ctx, 0)
}

func (ru *run) waitStable(ctx context.Context, before string) {
	o := ru.r.Settle
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Unchanged <= 0 {
		o.Unchanged = 600 * time.Millisecond
	}
	start := ru.r.now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	prev, changed := "", false
	pause := time.Duration(0)
	for {
		obs, err := ru.dev.Observe(ctx, &cpv1.ObserveRequest{SkipScreenshot: true})
		if err != nil {
			return // the full observe that follows reports device errors
		}
		ui := obs.GetUiXml()
		if ui != before {
			changed = true
		}
		if changed && ui == prev {
			return
		}
		prev = ui
		if !changed && ru.r.now().Sub(start) >= o.Unchanged {
			return
		}
		if !changed {
			// No change yet: the device may still be working on the
			// action, or the action changed nothing visible. Back off.
			pause = min(max(pause*2, o.Poll), 200*time.Millisecond)
		} else {
			pause = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}
