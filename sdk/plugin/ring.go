package plugin

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// A model plugin served by ServeModel consumes the shared-memory command
// ring the host hands it in LoadRequest.ring_path (contract 1.1): the SDK
// maps the ring, fetches commands in batches, runs the plugin's Infer for
// each (concurrently; a BatchModel gets each fetch in one InferBatch), and
// completes each with a RingReply holding the
// reply's chunks. The plugin's code does not change: it implements Model
// as before, and Infer is called the same way whether the request came
// over gRPC or over the ring. A command carries no cancellation; its
// context ends at the command's deadline, when it has one, or when the
// ring is closed.

// modelRings are the rings a model plugin consumes, by path.
type modelRings struct {
	impl Model

	mu    sync.Mutex
	rings map[string]*ringConsumer
}

type ringConsumer struct {
	r      *ring.Ring
	cancel context.CancelFunc
	done   chan struct{}
}

func newModelRings(impl Model) *modelRings {
	return &modelRings{impl: impl, rings: map[string]*ringConsumer{}}
}

// attach starts consuming the ring at path, unless it already does.
func (m *modelRings) attach(path string) error {
	if m == nil {
		return errors.New("this server consumes no rings")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rc := m.rings[path]; rc != nil {
		select {
		case <-rc.done: // it stopped (the host recreated the ring): reattach
		default:
			return nil
		}
	}
	r, err := ring.Open(path, ring.Options{Wait: ring.WaitAdaptive, Logger: Logger()})
	if err != nil {
		return fmt.Errorf("attach to the host's ring: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rc := &ringConsumer{r: r, cancel: cancel, done: make(chan struct{})}
	m.rings[path] = rc
	go func() {
		defer close(rc.done)
		m.consume(ctx, r)
	}()
	Logger().Info("consuming the host's inference ring", "path", path, "entries", r.Entries(), "chunk_bytes", r.ChunkSize())
	return nil
}

// detachAll stops every ring consumer (Unload).
func (m *modelRings) detachAll() {
	if m == nil {
		return
	}
	m.mu.Lock()
	rings := m.rings
	m.rings = map[string]*ringConsumer{}
	m.mu.Unlock()
	for _, rc := range rings {
		rc.cancel()
		if err := rc.r.Close(); err != nil {
			Logger().Warn("detaching from the host's ring", "path", rc.r.Path(), "error", err)
		}
		<-rc.done
	}
}

// consume fetches and runs commands until the ring closes or ctx ends.
func (m *modelRings) consume(ctx context.Context, r *ring.Ring) {
	buf := make([]ring.Command, 64)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		n, err := r.Fetch(ctx, buf)
		if err != nil {
			if !errors.Is(err, ring.ErrClosed) && ctx.Err() == nil {
				Logger().Warn("the host's ring stopped", "path", r.Path(), "error", err)
			}
			return
		}
		batcher, _ := m.impl.(BatchModel)
		var cmds []ring.Command
		var reqs []*cpv1.InferRequest
		for _, cmd := range buf[:n] {
			req := new(cpv1.InferRequest)
			if err := req.UnmarshalVT(cmd.Payload); err != nil {
				complete(r, cmd, ring.StatusMalformed, []byte("payload is not an InferRequest: "+err.Error()))
				continue
			}
			cmd.Payload = nil // it aliases the arena; req holds copies
			if batcher != nil {
				cmds, reqs = append(cmds, cmd), append(reqs, req)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.run(ctx, r, cmd, req)
			}()
		}
		if len(cmds) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.runBatch(ctx, r, batcher, cmds, reqs)
			}()
		}
	}
}

// run runs one command and completes it with its RingReply.
func (m *modelRings) run(ctx context.Context, r *ring.Ring, cmd ring.Command, req *cpv1.InferRequest) {
	if cmd.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, cmd.Deadline))
		defer cancel()
	}
	reply := &cpv1.RingReply{}
	err := safeInfer(ctx, m.impl, req, func(c *cpv1.InferChunk) error {
		if c == nil {
			c = &cpv1.InferChunk{}
		}
		reply.Chunks = append(reply.Chunks, c)
		return nil
	})
	if err != nil {
		reply.Error = err.Error()
	}
	completeReply(r, cmd, reply)
}

// completeReply completes cmd with reply, or with why it cannot be sent.
func completeReply(r *ring.Ring, cmd ring.Command, reply *cpv1.RingReply) {
	out, merr := reply.MarshalVT()
	switch {
	case merr != nil:
		complete(r, cmd, ring.StatusFailed, []byte("marshal the reply: "+merr.Error()))
	case len(out) > r.ChunkSize():
		complete(r, cmd, ring.StatusFailed, fmt.Appendf(nil, "reply of %d bytes exceeds the ring's %d-byte result chunk", len(out), r.ChunkSize()))
	default:
		complete(r, cmd, ring.StatusOK, out)
	}
}

// safeInfer calls Infer, turning a panic into an error as the gRPC path
// does.
func safeInfer(ctx context.Context, impl Model, req *cpv1.InferRequest, send func(*cpv1.InferChunk) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("plugin panic in Infer: %v", p)
			Logger().Error("panic in Infer over the ring", "panic", p)
		}
	}()
	return impl.Infer(ctx, req, send)
}

func complete(r *ring.Ring, cmd ring.Command, st ring.Status, result []byte) {
	if len(result) > r.ChunkSize() {
		result = result[:r.ChunkSize()]
	}
	if err := r.Complete(cmd.Reply(st, result)); err != nil && !errors.Is(err, ring.ErrClosed) {
		Logger().Warn("completing a ring command", "id", cmd.ID, "error", err)
	}
}
