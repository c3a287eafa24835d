package vgpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openautoglm/cloudphone/core/ring"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Process model plugins consume a shared-memory ring (contract 1.1): when
// the gateway loads a model whose adapter runs as a process, it creates a
// ring under Options.ShmDir and hands its path over in LoadRequest.ring_path.
// A plugin built with sdk/plugin attaches and says so (ring_attached); from
// then on, admitted commands for that model are submitted to its ring (the
// request marshaled into the arena) instead of calling Infer over gRPC, and
// the reply comes back as a RingReply. A plugin that does not attach, and a
// request too large for an arena chunk, keep the gRPC path.
//
// When the plugin's process dies, the ring completes the commands it had
// fetched with ring.ErrConsumerLost; the gateway loads the model again on the
// restarted process (handing it the same ring) and retries each of those
// commands once, like procrt retries an Infer that had not streamed yet. A
// command lost twice fails with the ring's reason.

// transporter is implemented by Adapters that tell how a model plugin runs
// (HostAdapters does).
type transporter interface {
	Transport(name string) string
}

// shmLane is a model's shared-memory ring.
type shmLane struct {
	r    *ring.Ring
	path string
	// retired is set before the model is unloaded or the ring closed: a
	// consumer that leaves then is not asked back.
	retired atomic.Bool

	mu        sync.Mutex
	reattach  chan struct{} // non-nil while a reattach runs; closed when done
	reattachE error
}

var shmSeq atomic.Uint64

// newShmLane creates a ring for model on slice s when the adapter runs as
// a process. Call without g.mu.
func (g *Gateway) newShmLane(s *slice, model string) *shmLane {
	t, ok := g.adapters.(transporter)
	if !ok || g.opts.ShmDir == "-" || t.Transport(model) != "process" {
		return nil
	}
	dir := g.shmDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	path := filepath.Join(dir, fmt.Sprintf("cloudphone-vgpu-%d-%d-%s-%s", os.Getpid(), shmSeq.Add(1), s.cfg.Name, model))
	l := &shmLane{path: path}
	r, err := ring.Create(path, ring.Options{Entries: laneEntries(g.cfg.RingEntries, g.opts.MaxInFlight),
		ArenaMiB: max(g.cfg.ArenaMiB, 1), Wait: g.wait, Logger: g.log,
		OnConsumerLost: func(why string, _ int) { g.consumerLost(s, model, l, why) }})
	if err != nil {
		g.log.Warn("vgpu: no shared-memory ring for a process model; it stays on gRPC", "model", model, "error", err)
		return nil
	}
	l.r = r
	return l
}

// retire marks the lane as going away (before the model's Unload), so its
// consumer's leaving does not start a reattach.
func (l *shmLane) retire() {
	if l != nil {
		l.retired.Store(true)
	}
}

func (l *shmLane) close(g *Gateway) {
	if l == nil {
		return
	}
	l.retire()
	if err := l.r.Close(); err != nil {
		g.log.Warn("vgpu: closing a model's shared-memory ring", "path", l.path, "error", err)
	}
}

// callShm runs an admitted command over its model's shared-memory ring. It
// reports false, having done nothing, when the request is too large for
// the ring (the caller then uses the in-process lane).
func (g *Gateway) callShm(ctx context.Context, c *command, l *shmLane) (ok bool, err error) {
	payload, err := c.req.MarshalVT()
	if err != nil {
		return false, nil
	}
	if len(payload) > l.r.ChunkSize() {
		return false, nil
	}
	dl := int64(0)
	if c.deadline != deadlineKey(0) {
		dl = c.deadline * int64(time.Millisecond)
	}
	cmd := ring.Command{ID: c.id, Slice: c.slice.id, Model: c.modelID, Deadline: dl, Payload: payload}
	g.mu.Lock()
	c.slice.shmCommands++
	g.mu.Unlock()
	start := g.clock.Now()
	for attempt := 0; ; attempt++ {
		comp, err := l.r.Call(ctx, cmd)
		if err != nil && comp.Status == ring.StatusConsumerLost && attempt == 0 && ctx.Err() == nil {
			g.log.Warn("vgpu: model process lost a command; retrying on the restarted process",
				"model", c.model, "slice", c.slice.cfg.Name, "id", c.id, "reason", string(comp.Result))
			g.mu.Lock()
			c.slice.retried++
			g.mu.Unlock()
			if rerr := g.reattach(ctx, c.slice, c.model, l); rerr != nil {
				err = fmt.Errorf("%w (reattaching the restarted process: %v)", err, rerr)
			} else {
				continue
			}
		}
		if err != nil {
			// Lost again: this command fails; the restarted process is
			// attached for the next ones by consumerLost, as after every loss.
			g.account(c, g.clock.Now().Sub(start), err)
			if ctx.Err() != nil {
				return true, fmt.Errorf("infer %s: canceled while running on slice %s: %w", c.model, c.slice.cfg.Name, ctx.Err())
			}
			return true, fmt.Errorf("infer %s on slice %s over the shared-memory ring: %w", c.model, c.slice.cfg.Name, err)
		}
		return true, g.deliverReply(c, comp.Result, start)
	}
}

// deliverReply emits a RingReply's chunks and accounts the command.
func (g *Gateway) deliverReply(c *command, result []byte, start time.Time) error {
	reply := new(cpv1.RingReply)
	err := reply.UnmarshalVT(result)
	var m meter
	if err != nil {
		err = fmt.Errorf("infer %s: the model's ring reply is malformed: %w", c.model, err)
	} else {
		for _, ch := range reply.GetChunks() {
			m.see(ch)
			if err = c.deliver(ch); err != nil {
				break
			}
		}
		if err == nil && reply.GetError() != "" {
			err = fmt.Errorf("infer %s: %s", c.model, reply.GetError())
		}
	}
	if !m.reported {
		m.gpu = g.clock.Now().Sub(start)
	}
	g.account(c, m.gpu, err)
	return err
}

// reattach loads model again on its restarted process, handing it the same
// ring; concurrent callers share one attempt.
func (g *Gateway) reattach(ctx context.Context, s *slice, model string, l *shmLane) error {
	l.mu.Lock()
	if ch := l.reattach; ch != nil {
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.reattachE
	}
	ch := make(chan struct{})
	l.reattach = ch
	l.mu.Unlock()

	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	resp, err := g.adapters.Load(lctx, model, &cpv1.LoadRequest{Slice: s.cfg.Name, RingPath: l.path})
	cancel()
	if err == nil && !resp.GetRingAttached() {
		err = errors.New("the restarted plugin did not attach to the ring")
	}
	l.mu.Lock()
	l.reattachE = err
	l.reattach = nil
	l.mu.Unlock()
	close(ch)
	return err
}

// consumerLost runs when the ring declared its consumer (the model
// plugin's process) lost. Commands it had fetched come back to their
// callers as ErrConsumerLost and are retried there; commands it had not
// fetched wait in the ring, and nobody would serve them if no caller saw a
// loss, so the gateway asks the restarted process to attach now, retrying
// while the plugin host restarts it.
func (g *Gateway) consumerLost(s *slice, model string, l *shmLane, why string) {
	if l.retired.Load() {
		return
	}
	go func() {
		backoff := 50 * time.Millisecond
		for attempt := 1; !l.retired.Load(); attempt++ {
			err := g.reattach(context.Background(), s, model, l)
			if err == nil {
				g.log.Info("vgpu: model process attached to its ring again", "model", model, "slice", s.cfg.Name, "after", why)
				return
			}
			g.log.Warn("vgpu: reattaching a model process to its ring", "model", model, "attempt", attempt, "error", err)
			time.Sleep(backoff) // Close retires the lane: the loop ends
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

// Recovered tells the gateway that the model plugin name was restarted or
// replaced (pluginhost ActionRecovered, ActionSwapped): a model that
// consumes a shared-memory ring is loaded again on the new process, which
// attaches to the same ring, so commands waiting in it are served.
func (g *Gateway) Recovered(ctx context.Context, name string) error {
	g.mu.Lock()
	var s *slice
	var l *shmLane
	for _, sl := range g.slices {
		if m := sl.models[name]; m != nil && m.shm != nil {
			s, l = sl, m.shm
		}
	}
	g.mu.Unlock()
	if l == nil {
		return nil
	}
	return g.reattach(ctx, s, name, l)
}

// shmDir is where the gateway creates shared-memory rings.
func (g *Gateway) shmDir() string {
	if g.opts.ShmDir == "" {
		return "/dev/shm"
	}
	return g.opts.ShmDir
}

// removeStaleRings deletes the shared-memory rings left in dir by gateways
// whose process is gone (a host that was killed cannot remove its own).
func removeStaleRings(dir string, log interface{ Warn(string, ...any) }) {
	paths, _ := filepath.Glob(filepath.Join(dir, "cloudphone-vgpu-*"))
	for _, p := range paths {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(p), "cloudphone-vgpu-%d-", &pid); err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
			continue
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			log.Warn("vgpu: removing a stale shared-memory ring", "path", p, "error", err)
		}
	}
}
