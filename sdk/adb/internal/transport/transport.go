// Package transport multiplexes adb streams over one connection after the
// CNXN/AUTH handshake. Both sides of sdk/adb use it: the client opens
// streams (OPEN → OKAY), the device accepts them, and both move data in
// WRTE packets with one packet in flight per stream and direction, each
// acknowledged by OKAY.
//
// Locks: Transport.wmu (held while writing to the connection) is taken
// before Transport.outMu; Transport.mu, Transport.outMu and Stream.mu are
// otherwise leaves: no code path holds two of them at once. The read loop
// never writes to the connection itself (it queues with Post), so it never
// blocks on a slow peer.
package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// ErrClosed is returned by operations on a closed transport or stream.
var ErrClosed = errors.New("adb: connection closed")

// ErrRefused is returned by Open when the peer refuses a service.
var ErrRefused = errors.New("adb: service refused")

// maxQueued bounds the WRTE packets buffered for one stream. A peer that
// honours flow control never has more than two queued.
const maxQueued = 8

// Service runs one accepted stream; the stream is closed when it returns.
// ctx is cancelled when the stream or the transport closes.
type Service func(ctx context.Context, s *Stream)

// Config configures a Transport.
type Config struct {
	// MaxData is the negotiated maximum payload: the limit for reading and
	// the chunk size for writing.
	MaxData uint32
	// Checksum makes outgoing packets carry a checksum and incoming ones be
	// verified (peers older than wire.VersionSkipChecksum).
	Checksum bool
	// OnOpen resolves a service requested by the peer. It runs on the read
	// loop and must not block; nil refuses every OPEN.
	OnOpen func(service string) Service
	// OnPacket receives packets other than OPEN/OKAY/WRTE/CLSE (CNXN, AUTH,
	// STLS, SYNC). It runs on the read loop; nil ignores them.
	OnPacket func(p wire.Packet)
	// MaxStreams limits concurrently open streams (default 4096).
	MaxStreams int
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
}

// Transport is one adb connection carrying many streams.
type Transport struct {
	r   io.Reader
	w   io.Writer
	c   io.Closer
	cfg Config
	log *slog.Logger

	wmu     sync.Mutex // held while writing to the connection
	outMu   sync.Mutex // guards outq and outEnd
	outq    []outPacket
	outEnd  bool
	outSig  chan struct{}
	writerW sync.WaitGroup

	mu      sync.Mutex
	streams map[uint32]*Stream
	nextID  uint32
	err     error // set once when the transport dies

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup // services
}

// New returns a transport reading packets from r and writing them to w;
// c is closed when the transport ends. Call Run to start it.
func New(r io.Reader, w io.Writer, c io.Closer, cfg Config) *Transport {
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 4096
	}
	if cfg.MaxData == 0 {
		cfg.MaxData = wire.MaxPayloadV1
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Transport{
		r: r, w: w, c: c, cfg: cfg, log: log,
		streams: make(map[uint32]*Stream),
		done:    make(chan struct{}),
		outSig:  make(chan struct{}, 1),
	}
}

// Done is closed when the transport has ended.
func (t *Transport) Done() <-chan struct{} { return t.done }

// Err returns why the transport ended, or nil while it runs.
func (t *Transport) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// MaxData returns the negotiated payload limit.
func (t *Transport) MaxData() uint32 { return t.cfg.MaxData }

// Run reads packets until the connection fails or ctx ends, then closes
// every stream, waits for the services it started and returns the cause
// (nil for a clean EOF or Close).
func (t *Transport) Run(ctx context.Context) error {
	t.mu.Lock()
	t.ctx, t.cancel = context.WithCancel(ctx)
	t.mu.Unlock()
	stop := context.AfterFunc(t.ctx, func() { t.fail(ErrClosed) })
	defer stop()
	t.writerW.Add(1)
	go t.writeLoop()
	var err error
	for {
		var p wire.Packet
		p, err = wire.ReadPacket(t.r, t.cfg.MaxData, t.cfg.Checksum)
		if err != nil {
			break
		}
		if err = t.handle(p); err != nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		err = ErrClosed
	}
	t.fail(err)
	t.wg.Wait()
	t.writerW.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	if errors.Is(t.err, ErrClosed) {
		return nil
	}
	return t.err
}

// Close ends the transport; Run returns once services have stopped.
func (t *Transport) Close() error {
	t.fail(ErrClosed)
	return nil
}

// fail records the first error, closes the connection and every stream.
func (t *Transport) fail(err error) {
	t.mu.Lock()
	if t.err != nil {
		t.mu.Unlock()
		return
	}
	if err == nil {
		err = ErrClosed
	}
	t.err = err
	streams := t.streams
	t.streams = map[uint32]*Stream{}
	cancel := t.cancel
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	_ = t.c.Close()
	for _, s := range streams {
		s.terminate(err)
	}
	close(t.done)
}

// outPacket is a packet waiting for the writer; done (if any) receives the
// result of writing it.
type outPacket struct {
	p    wire.Packet
	done chan error
}

// Send writes one packet and waits until it is written. All packets go
// through one writer goroutine, in order, so the read loop never blocks on
// the connection (two peers each stuck writing a large WRTE while neither
// reads would otherwise deadlock).
func (t *Transport) Send(cmd wire.Command, arg0, arg1 uint32, data []byte) error {
	// Fast path: nothing queued and nobody writing, so writing here keeps
	// the order and saves a hand-off to the writer goroutine.
	if t.wmu.TryLock() {
		t.outMu.Lock()
		direct := len(t.outq) == 0 && !t.outEnd
		t.outMu.Unlock()
		if direct {
			var err error
			if t.isDone() {
				err = ErrClosed
			} else if err = wire.WritePacket(t.w, wire.Packet{Command: cmd, Arg0: arg0, Arg1: arg1, Data: data}, t.cfg.Checksum); err != nil {
				defer t.fail(err)
			}
			t.wmu.Unlock()
			return err
		}
		t.wmu.Unlock()
	}
	done := make(chan error, 1)
	if !t.enqueue(outPacket{wire.Packet{Command: cmd, Arg0: arg0, Arg1: arg1, Data: data}, done}) {
		return ErrClosed
	}
	return <-done
}

// Post queues a packet without waiting for it to be written; callbacks on
// the read loop (Config.OnOpen, Config.OnPacket) must use it, not Send.
func (t *Transport) Post(cmd wire.Command, arg0, arg1 uint32, data []byte) {
	t.enqueue(outPacket{p: wire.Packet{Command: cmd, Arg0: arg0, Arg1: arg1, Data: data}})
}

func (t *Transport) enqueue(o outPacket) bool {
	t.outMu.Lock()
	if t.outEnd {
		t.outMu.Unlock()
		return false
	}
	t.outq = append(t.outq, o)
	t.outMu.Unlock()
	select {
	case t.outSig <- struct{}{}:
	default:
	}
	return true
}

func (t *Transport) writeLoop() {
	defer t.writerW.Done()
	var batch []outPacket
	for {
		select {
		case <-t.outSig:
		case <-t.done:
		}
		// wmu before taking the batch: a direct Send cannot slip a
		// packet in between packets queued before it.
		t.wmu.Lock()
		t.outMu.Lock()
		batch, t.outq = t.outq, batch[:0]
		dead := t.isDone()
		if dead {
			t.outEnd = true
		}
		t.outMu.Unlock()
		for i, o := range batch {
			var err error
			if dead {
				err = ErrClosed
			} else if err = wire.WritePacket(t.w, o.p, t.cfg.Checksum); err != nil {
				t.fail(err)
				dead = true
			}
			if o.done != nil {
				o.done <- err
			}
			batch[i] = outPacket{}
		}
		t.wmu.Unlock()
		if dead {
			t.outMu.Lock()
			t.outEnd = true
			rest := t.outq
			t.outq = nil
			t.outMu.Unlock()
			for _, o := range rest {
				if o.done != nil {
					o.done <- ErrClosed
				}
			}
			return
		}
	}
}

func (t *Transport) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *Transport) handle(p wire.Packet) error {
	switch p.Command {
	case wire.CmdOPEN:
		t.handleOpen(p)
	case wire.CmdOKAY:
		s := t.lookup(p.Arg1)
		if s == nil {
			return nil
		}
		s.handleOkay(p.Arg0)
	case wire.CmdWRTE:
		s := t.lookup(p.Arg1)
		if s == nil {
			return nil
		}
		s.handleWrite(p.Arg0, p.Data)
	case wire.CmdCLSE:
		s := t.lookup(p.Arg1)
		if s == nil {
			return nil
		}
		s.handleClose(p.Arg0)
	default:
		if t.cfg.OnPacket != nil {
			t.cfg.OnPacket(p)
		}
	}
	return nil
}

func (t *Transport) lookup(id uint32) *Stream {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.streams[id]
}

func (t *Transport) remove(id uint32) {
	t.mu.Lock()
	delete(t.streams, id)
	t.mu.Unlock()
}

// register allocates a local id for s and adds it to the table.
func (t *Transport) register(s *Stream) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	if len(t.streams) >= t.cfg.MaxStreams {
		return fmt.Errorf("adb: too many streams (%d)", len(t.streams))
	}
	for {
		t.nextID++
		if t.nextID == 0 {
			continue
		}
		if _, busy := t.streams[t.nextID]; !busy {
			break
		}
	}
	s.localID = t.nextID
	t.streams[s.localID] = s
	return nil
}

func (t *Transport) handleOpen(p wire.Packet) {
	remote := p.Arg0
	if remote == 0 {
		return
	}
	service := trimNUL(p.Data)
	var svc Service
	if t.cfg.OnOpen != nil {
		svc = t.cfg.OnOpen(service)
	}
	if svc == nil {
		t.log.Debug("adb: refused service", "service", service)
		t.Post(wire.CmdCLSE, 0, remote, nil)
		return
	}
	s := newStream(t, service)
	s.remoteID = remote
	s.open = true
	s.ctx, s.cancel = context.WithCancel(t.ctx)
	if err := t.register(s); err != nil {
		t.log.Debug("adb: refused service", "service", service, "err", err)
		s.cancel()
		t.Post(wire.CmdCLSE, 0, remote, nil)
		return
	}
	s.credit <- struct{}{}
	t.Post(wire.CmdOKAY, s.localID, remote, nil)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer s.Close()
		svc(s.ctx, s)
	}()
}

// Open asks the peer for service and waits for it to accept or refuse.
func (t *Transport) Open(ctx context.Context, service string) (*Stream, error) {
	s := newStream(t, service)
	s.opened = make(chan struct{})
	if err := t.register(s); err != nil {
		return nil, err
	}
	data := append([]byte(service), 0)
	if err := t.Send(wire.CmdOPEN, s.localID, 0, data); err != nil {
		t.remove(s.localID)
		return nil, err
	}
	select {
	case <-s.opened:
	case <-ctx.Done():
		s.abandon()
		return nil, fmt.Errorf("adb: open %q: %w", service, ctx.Err())
	case <-t.done:
		return nil, fmt.Errorf("adb: open %q: %w", service, t.Err())
	}
	if s.openErr != nil {
		return nil, fmt.Errorf("adb: open %q: %w", service, s.openErr)
	}
	return s, nil
}

func trimNUL(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}
