package procrt

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// Process is a loaded process plugin: a running child process, the gRPC
// connection to it, and a supervisor goroutine that restarts it when it
// crashes. It is safe for concurrent use; gRPC multiplexes calls on the one
// connection.
//
// Process satisfies pluginhost.Instance, and pluginhost.Planner, Model or
// Device (all three method sets are present; only the plugin's kind is
// served, the others fail with an Unimplemented error that wraps
// errors.ErrUnsupported).
type Process struct {
	path string
	opts Options
	log  *slog.Logger
	nm   string // the plugin's name; a restart must keep it

	mu     sync.Mutex
	gen    *generation   // nil while restarting
	ready  chan struct{} // closed when gen is set; replaced on a crash
	state  string
	info   *cpv1.PluginInfo
	sha    string
	config []byte // last successful Configure, re-applied after a restart
	closed bool

	closing  chan struct{} // closed by Close
	crashed  chan *generation
	stopped  chan struct{} // closed when the supervisor has returned
	closeErr error
	once     sync.Once
}

// Load starts the plugin file at path, completes the handshake, calls
// Describe and checks the description (contract major version, name, kind).
// On success the Process serves calls and restarts the child after a crash;
// on failure the child is killed and the error says why (not a plugin, wrong
// contract version, sha256 mismatch, bad description).
//
// ctx bounds the start (together with Options.StartTimeout); it is not
// retained.
func Load(ctx context.Context, path string, opts Options) (*Process, error) {
	opts = opts.withDefaults()
	g, err := start(ctx, path, opts, opts.Logger, opts.Hashed)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	ready := make(chan struct{})
	close(ready)
	p := &Process{
		path:    path,
		sha:     g.sha,
		opts:    opts,
		log:     opts.Logger.With("plugin", g.info.GetName()),
		nm:      g.info.GetName(),
		gen:     g,
		ready:   ready,
		state:   StateReady,
		info:    g.info,
		closing: make(chan struct{}),
		crashed: make(chan *generation, 1),
		stopped: make(chan struct{}),
	}
	p.log.Info("plugin process started", "pid", g.pid, "version", g.info.GetVersion(),
		"kind", g.info.GetKind().String())
	go p.supervise(g)
	return p, nil
}

// Info is the plugin's self-description, read at load (and refreshed after
// a restart).
func (p *Process) Info() *cpv1.PluginInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return proto.CloneOf(p.info)
}

// Transport returns "process".
func (p *Process) Transport() string { return Transport }

// SHA256 is the hex sha256 of the file the current process was started
// from (at load, or at the last restart).
func (p *Process) SHA256() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sha
}

// Path is the file the process was started from.
func (p *Process) Path() string { return p.path }

// State is StateReady, StateCrashed, StateRestarting or StateClosed.
func (p *Process) State() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Pid is the current child's process id, or 0 while restarting or closed.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen == nil {
		return 0
	}
	return p.gen.pid
}

func (p *Process) name() string { return p.nm }

// Configure hands the plugin its settings as a JSON object. The last
// successful settings are re-applied to a restarted process.
func (p *Process) Configure(ctx context.Context, configJSON []byte) error {
	_, err := call(ctx, p, "configure", always, func(ctx context.Context, g *generation) (*cpv1.ConfigureResponse, error) {
		return g.plugin.Configure(ctx, &cpv1.ConfigureRequest{ConfigJson: configJSON})
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.config = append([]byte(nil), configJSON...)
	p.mu.Unlock()
	return nil
}

// Close stops the supervisor and ends the child: a graceful shutdown
// request, then SIGKILL. If ctx ends first, the child is killed at once.
// Close is idempotent; later calls return the first result.
func (p *Process) Close(ctx context.Context) error {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.state = StateClosed
		p.mu.Unlock()
		close(p.closing)
		select {
		case <-p.stopped:
		case <-ctx.Done():
			p.forceKill()
			<-p.stopped
			p.closeErr = fmt.Errorf("close plugin %q: %w", p.name(), ctx.Err())
		}
		p.notify(StateClosed, nil)
		p.log.Info("plugin process closed")
	})
	return p.closeErr
}

// forceKill SIGKILLs the current child, if any, without waiting.
func (p *Process) forceKill() {
	p.mu.Lock()
	g := p.gen
	p.mu.Unlock()
	if g != nil {
		killPid(g.pid)
	}
}

// acquire returns the serving generation, waiting (bounded by ctx) while
// the process restarts.
func (p *Process) acquire(ctx context.Context) (*generation, error) {
	for {
		p.mu.Lock()
		closed, g, ready := p.closed, p.gen, p.ready
		p.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if g != nil {
			return g, nil
		}
		select {
		case <-ready:
		case <-p.closing:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the plugin process to restart: %w", ctx.Err())
		}
	}
}

// deadWait is how long a failed call waits to learn whether the process
// died under it.
const deadWait = time.Second

// call runs f on the serving generation. A call cut short because the
// process died reports ErrCrashed; if retry reports true (the operation is
// safe to repeat; nil means never), it waits for the restarted process and
// runs once more.
func call[T any](ctx context.Context, p *Process, op string, retry func() bool, f func(context.Context, *generation) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		g, err := p.acquire(ctx)
		if err != nil {
			return zero, fmt.Errorf("plugin %q: %s: %w", p.name(), op, err)
		}
		v, err := f(ctx, g)
		if err == nil {
			return v, nil
		}
		if ctx.Err() == nil && isConnLost(err) && p.died(ctx, g) {
			if retry != nil && attempt == 0 && retry() {
				continue
			}
			return zero, fmt.Errorf("plugin %q: %s: %w: %w", p.name(), op, ErrCrashed, wrapRPC(ctx, err))
		}
		return zero, fmt.Errorf("plugin %q: %s: %w", p.name(), op, wrapRPC(ctx, err))
	}
}

// died reports whether g's process is gone, waiting up to deadWait for
// go-plugin to notice. A dead generation is retired at once, so that calls
// wait for its successor instead of reaching it again.
func (p *Process) died(ctx context.Context, g *generation) bool {
	t := time.NewTicker(exitPoll / 5)
	defer t.Stop()
	timeout := time.NewTimer(deadWait)
	defer timeout.Stop()
	for {
		if g.client.Exited() {
			p.retire(g)
			return true
		}
		select {
		case <-g.dead:
			return true
		case <-t.C:
		case <-timeout.C:
			return false
		case <-ctx.Done():
			return false
		case <-p.closing:
			return false
		}
	}
}

// retire takes the dead generation g out of service, if it still serves,
// and wakes the supervisor. It reports whether g was serving.
func (p *Process) retire(g *generation) bool {
	p.mu.Lock()
	serving := p.gen == g
	if serving {
		p.gen = nil
		p.ready = make(chan struct{})
		p.state = StateCrashed
	}
	p.mu.Unlock()
	g.markDead()
	select {
	case p.crashed <- g:
	default:
	}
	return serving
}

// notify calls OnStateChange, if set.
func (p *Process) notify(state string, err error) {
	if p.opts.OnStateChange != nil {
		p.opts.OnStateChange(state, err)
	}
}
