package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/openautoglm/cloudphone/core/tasks"
)

// RemoteTaskEvents is implemented by a task service that also answers for
// tasks other nodes run (cluster mode, core/node): Remote says whether a
// task is not in this node's store, StreamRemote streams its events from
// the cluster after sequence after, calling emit for each, and returns nil
// after the final one (or an error, ctx's when it ends first).
type RemoteTaskEvents interface {
	Remote(ctx context.Context, id string) bool
	StreamRemote(ctx context.Context, id string, after uint64, emit func(tasks.Event) error) error
}

// remoteEvents serves the SSE stream of a task another node runs: the
// cluster's events of the task, each with `id:` its sequence (resume with
// Last-Event-ID), until the final one. Headers are already written.
func (s *Server) remoteEvents(w http.ResponseWriter, fl http.Flusher, ctx context.Context, rt RemoteTaskEvents, id string, after uint64) {
	every := s.KeepAlive
	if every <= 0 {
		every = DefaultKeepAlive
	}
	for {
		sctx, cancel := context.WithTimeout(ctx, every)
		var werr error
		err := rt.StreamRemote(sctx, id, after, func(ev tasks.Event) error {
			if werr = writeEvent(w, ev); werr != nil {
				return werr
			}
			fl.Flush()
			after = uint64(ev.Seq)
			return nil
		})
		timedOut := sctx.Err() != nil
		cancel()
		switch {
		case err == nil || werr != nil || ctx.Err() != nil:
			return
		case timedOut:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			fl.Flush()
		default:
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", mustJSON(ErrorBody{Error: ErrorDetail{Code: "internal", Message: err.Error()}}))
			return
		}
	}
}
