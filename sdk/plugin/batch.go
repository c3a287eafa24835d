package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// BatchModel is implemented by Models that run several requests in one
// pass, as a GPU server batches: over the host's shared-memory ring the
// SDK hands every command of one fetch to InferBatch together (up to 64),
// instead of one Infer each. Requests that come over gRPC still go through
// Infer, one at a time.
//
// send(i, chunk) streams a chunk of reqs[i]'s reply; InferBatch returns one
// error per request (nil for those that succeeded), or nil for all. The
// context ends at the latest of the commands' deadlines, when every one
// has a deadline, or when the ring is closed; each request's own deadline
// is req.DeadlineUnixMs when set.
type BatchModel interface {
	Model
	InferBatch(ctx context.Context, reqs []*cpv1.InferRequest, send func(i int, c *cpv1.InferChunk) error) []error
}

// runBatch runs one fetch's commands through InferBatch and completes each
// with its own RingReply.
func (m *modelRings) runBatch(ctx context.Context, r *ring.Ring, b BatchModel, cmds []ring.Command, reqs []*cpv1.InferRequest) {
	latest := int64(0)
	for _, c := range cmds {
		if c.Deadline <= 0 {
			latest = -1
			break
		}
		latest = max(latest, c.Deadline)
	}
	if latest > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, latest))
		defer cancel()
	}
	replies := make([]cpv1.RingReply, len(cmds))
	errs, err := safeInferBatch(ctx, b, reqs, func(i int, c *cpv1.InferChunk) error {
		if i < 0 || i >= len(replies) {
			return fmt.Errorf("send: request %d of a batch of %d", i, len(replies))
		}
		if c == nil {
			c = &cpv1.InferChunk{}
		}
		replies[i].Chunks = append(replies[i].Chunks, c)
		return nil
	})
	if err == nil && errs != nil && len(errs) != len(cmds) {
		err = fmt.Errorf("InferBatch returned %d errors for %d requests", len(errs), len(cmds))
	}
	for i := range cmds {
		switch {
		case err != nil:
			replies[i].Error = err.Error()
		case errs != nil && errs[i] != nil:
			replies[i].Error = errs[i].Error()
		}
		completeReply(r, cmds[i], &replies[i])
	}
}

// safeInferBatch calls InferBatch, turning a panic into an error for the
// whole batch.
func safeInferBatch(ctx context.Context, b BatchModel, reqs []*cpv1.InferRequest, send func(int, *cpv1.InferChunk) error) (errs []error, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("plugin panic in InferBatch: %v", p)
			Logger().Error("panic in InferBatch over the ring", "panic", p)
		}
	}()
	return b.InferBatch(ctx, reqs, send), nil
}
