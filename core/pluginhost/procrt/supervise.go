package procrt

import (
	"context"
	"fmt"
	"time"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// exitPoll is how often the supervisor asks go-plugin whether the child
// exited. A call that fails because the child died wakes it sooner.
const exitPoll = 50 * time.Millisecond

// supervise watches the serving generation, restarts the plugin when it
// dies, and kills it when the Process closes. It is the only goroutine that
// starts or kills children after Load.
func (p *Process) supervise(g *generation) {
	defer close(p.stopped)
	backoff := p.opts.RestartBackoffMin
	for {
		if !p.waitExit(g) {
			g.kill()
			p.mu.Lock()
			p.gen = nil
			p.mu.Unlock()
			return
		}
		p.retire(g)
		uptime := time.Since(g.started)
		crashErr := fmt.Errorf("%w: pid %d exited unexpectedly after %v", ErrCrashed, g.pid, uptime.Round(time.Millisecond))
		p.log.Error("plugin process crashed; restarting", "pid", g.pid, "uptime", uptime.Round(time.Millisecond))
		p.notify(StateCrashed, crashErr)
		g.kill() // releases go-plugin's goroutines and socket
		if uptime >= p.opts.RestartBackoffMax {
			backoff = p.opts.RestartBackoffMin
		}
		for {
			if !p.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, p.opts.RestartBackoffMax)
			ng, err := p.restart()
			if err == nil {
				g = ng
				break
			}
			if p.isClosed() {
				return
			}
			p.log.Error("plugin restart failed", "err", err, "retry_in", backoff)
			p.notify(StateCrashed, err)
		}
	}
}

// waitExit returns true when g's process exited, false when the Process is
// closing.
func (p *Process) waitExit(g *generation) bool {
	t := time.NewTicker(exitPoll)
	defer t.Stop()
	for {
		select {
		case <-p.closing:
			return false
		case c := <-p.crashed:
			if c == g {
				return true
			}
		case <-t.C:
			if g.client.Exited() {
				return true
			}
		}
	}
}

// sleep waits d, or returns false early when the Process is closing.
func (p *Process) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.closing:
		return false
	}
}

func (p *Process) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// restart starts a new process, checks that it is the same plugin, applies
// the last configuration and makes it serve.
func (p *Process) restart() (*generation, error) {
	p.mu.Lock()
	p.state = StateRestarting
	old, config := p.info, p.config
	p.mu.Unlock()
	p.notify(StateRestarting, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.closing:
			cancel()
		case <-ctx.Done():
		}
	}()

	g, err := start(ctx, p.path, p.opts, p.log, false)
	if err != nil {
		return nil, fmt.Errorf("restart: %w", err)
	}
	if g.info.GetName() != old.GetName() || g.info.GetKind() != old.GetKind() {
		g.kill()
		return nil, fmt.Errorf("restart: %w: the file now holds %q (%s), it was %q (%s)", ErrInvalidInfo,
			g.info.GetName(), g.info.GetKind(), old.GetName(), old.GetKind())
	}
	if config != nil {
		cctx, ccancel := context.WithTimeout(ctx, p.opts.StartTimeout)
		_, err := g.plugin.Configure(cctx, &cpv1.ConfigureRequest{ConfigJson: config})
		ccancel()
		if err != nil {
			g.kill()
			return nil, fmt.Errorf("restart: re-apply configuration: %w", wrapRPC(cctx, err))
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		g.kill()
		return nil, ErrClosed
	}
	p.gen = g
	p.info = g.info
	p.sha = g.sha
	p.state = StateReady
	close(p.ready)
	p.mu.Unlock()
	if g.info.GetVersion() != old.GetVersion() {
		p.log.Warn("restarted plugin reports another version", "was", old.GetVersion(), "now", g.info.GetVersion())
	}
	p.log.Info("plugin process restarted", "pid", g.pid)
	p.notify(StateReady, nil)
	return g, nil
}
