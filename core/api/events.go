package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/openautoglm/cloudphone/core/agent"
	"github.com/openautoglm/cloudphone/core/tasks"
)

// DefaultKeepAlive is the SSE keepalive comment interval.
const DefaultKeepAlive = 15 * time.Second

// sseBatch is how many stored events one read sends.
const sseBatch = 256

// finalGrace is how long a stream whose task is final waits for the final
// event (the state is stored just before it).
const finalGrace = 2 * time.Second

// taskEvents streams a task's events as Server-Sent Events: every stored
// event from the first (or after Last-Event-ID / ?after=), then live ones,
// each with `id:` its Seq and `event:` its kind; the stream ends after the
// final event. Comments keep idle connections alive.
func (s *Server) taskEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := s.withCaller(w, r)
	if !ok {
		return
	}
	id, tenant := r.PathValue("id"), scope(p)
	if _, err := s.Tasks.Get(r.Context(), tenant, id); err != nil {
		s.writeErr(w, r, err)
		return
	}
	after := 0
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			WriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("Last-Event-ID / after must be an event sequence number, got %q", v))
			return
		}
		after = n
		break
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		WriteError(w, http.StatusInternalServerError, "internal", "streaming unsupported by this connection")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": task %s\n\n", id)
	fl.Flush()
	if rt, ok := s.Tasks.(RemoteTaskEvents); ok && rt.Remote(r.Context(), id) {
		s.remoteEvents(w, fl, r.Context(), rt, id, uint64(after))
		return
	}

	sub := s.Tasks.Subscribe(id)
	defer sub.Close()
	every := s.KeepAlive
	if every <= 0 {
		every = DefaultKeepAlive
	}
	keep := time.NewTicker(every)
	defer keep.Stop()
	ctx := r.Context()
	var graceUntil time.Time
	for {
		c := sub.C()
		evs, err := s.Tasks.Events(ctx, tenant, id, after, sseBatch)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", mustJSON(ErrorBody{Error: ErrorDetail{Code: "internal", Message: err.Error()}}))
			}
			return
		}
		for _, ev := range evs {
			if err := writeEvent(w, ev); err != nil {
				return
			}
			after = ev.Seq
			if ev.Kind == agent.EventFinished {
				fl.Flush()
				return
			}
		}
		fl.Flush()
		if len(evs) == sseBatch {
			continue
		}
		if len(evs) == 0 {
			if end, retry := s.finalWithoutEvent(ctx, tenant, id, after, &graceUntil); end {
				return
			} else if retry {
				continue
			}
		}
		select {
		case <-c:
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-ctx.Done():
			return
		}
	}
}

// finalWithoutEvent says whether the stream should end: the task is final
// and its final event did not come within the grace (a crash between
// storing the state and the event); retry while the grace runs.
func (s *Server) finalWithoutEvent(ctx context.Context, tenant, id string, after int, graceUntil *time.Time) (end, retry bool) {
	t, err := s.Tasks.Get(ctx, tenant, id)
	if err != nil {
		return true, false
	}
	if !t.State.Final() {
		return false, false
	}
	// A client resuming after the final event itself: nothing will follow.
	if after > 0 {
		if last, err := s.Tasks.Events(ctx, tenant, id, after-1, 1); err == nil && len(last) == 1 && last[0].Kind == agent.EventFinished {
			return true, false
		}
	}
	if graceUntil.IsZero() {
		*graceUntil = time.Now().Add(finalGrace)
	}
	if time.Now().After(*graceUntil) {
		return true, false
	}
	select {
	case <-time.After(50 * time.Millisecond):
	case <-ctx.Done():
		return true, false
	}
	return false, true
}

func writeEvent(w http.ResponseWriter, ev tasks.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, data)
	return err
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
