package transport

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Stream is one adb stream: an io.ReadWriteCloser.
//
// Reads return the peer's WRTE data in order; a WRTE is acknowledged when
// the reader has consumed everything before it, so at most two packets are
// buffered per stream. Writes are split into MaxData chunks and wait for
// the OKAY of the previous chunk.
type Stream struct {
	t        *Transport
	service  string
	localID  uint32
	remoteID uint32

	ctx    context.Context
	cancel context.CancelFunc

	wmu    sync.Mutex    // one writer at a time
	credit chan struct{} // holds a token when a WRTE may be sent

	mu        sync.Mutex
	open      bool
	abandoned bool
	opened    chan struct{} // client side: closed when OPEN is answered
	openErr   error
	queue     [][]byte // received chunks; queue[0] may be partly read
	acked     int      // queue[:acked] have been acknowledged
	rerr      error    // returned once the queue is empty
	closed    bool     // Close called or peer closed
	remoteEnd bool     // peer sent CLSE
	rnotify   chan struct{}
	done      chan struct{}
	doneOnce  sync.Once
}

func newStream(t *Transport, service string) *Stream {
	return &Stream{
		t:       t,
		service: service,
		credit:  make(chan struct{}, 1),
		rnotify: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
}

// Service returns the service name the stream was opened for.
func (s *Stream) Service() string { return s.service }

// MaxData returns the largest payload of one WRTE on this connection.
func (s *Stream) MaxData() uint32 { return s.t.cfg.MaxData }

// Done is closed when the stream is closed by either side.
func (s *Stream) Done() <-chan struct{} { return s.done }

func (s *Stream) finish() {
	s.doneOnce.Do(func() {
		close(s.done)
		if s.cancel != nil {
			s.cancel()
		}
	})
}

func (s *Stream) notify() {
	select {
	case s.rnotify <- struct{}{}:
	default:
	}
}

// Read reads stream data; it returns io.EOF after the peer closed the
// stream and its data was consumed.
func (s *Stream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			n := copy(p, s.queue[0])
			s.queue[0] = s.queue[0][n:]
			var ack bool
			if len(s.queue[0]) == 0 {
				s.queue[0] = nil
				s.queue = s.queue[1:]
				s.acked--
				// The next chunk becomes head: acknowledge it now.
				if len(s.queue) > 0 && s.acked == 0 {
					s.acked = 1
					ack = true
				}
			}
			remote, closed := s.remoteID, s.closed
			s.mu.Unlock()
			if ack && !closed {
				s.t.Post(wire.CmdOKAY, s.localID, remote, nil)
			}
			return n, nil
		}
		if s.rerr != nil {
			err := s.rerr
			s.mu.Unlock()
			return 0, err
		}
		s.mu.Unlock()
		if len(p) == 0 {
			return 0, nil
		}
		<-s.rnotify
	}
}

// Write sends p in chunks of at most MaxData bytes, each after the OKAY
// of the previous one.
func (s *Stream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	written := 0
	for len(p) > 0 {
		select {
		case <-s.credit:
		case <-s.done:
			return written, s.writeErr()
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return written, s.writeErr()
		}
		n := min(len(p), int(s.t.cfg.MaxData))
		if err := s.t.Send(wire.CmdWRTE, s.localID, s.remoteID, p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

func (s *Stream) writeErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rerr != nil && !errors.Is(s.rerr, io.EOF) {
		return s.rerr
	}
	return ErrClosed
}

// Close closes the stream, telling the peer unless it closed first.
func (s *Stream) Close() error {
	s.closeFrom(false)
	return nil
}

// closeFrom closes the stream; the read loop passes async so that it never
// waits for the writer.
func (s *Stream) closeFrom(async bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if s.rerr == nil {
		s.rerr = ErrClosed
	}
	tell := s.open && !s.remoteEnd
	s.queue = nil
	s.mu.Unlock()
	s.t.remove(s.localID)
	s.finish()
	s.notify()
	switch {
	case tell && async:
		s.t.Post(wire.CmdCLSE, s.localID, s.remoteID, nil)
	case tell:
		_ = s.t.Send(wire.CmdCLSE, s.localID, s.remoteID, nil)
	}
}

// terminate ends the stream because the transport died.
func (s *Stream) terminate(err error) {
	s.mu.Lock()
	if s.rerr == nil || errors.Is(s.rerr, io.EOF) && len(s.queue) == 0 {
		s.rerr = err
	}
	if !s.open && s.opened != nil && s.openErr == nil {
		s.openErr = err
	}
	s.closed = true
	s.mu.Unlock()
	s.finish()
	s.notify()
}

// abandon handles a client Open whose caller gave up waiting.
func (s *Stream) abandon() {
	s.mu.Lock()
	if s.open {
		s.mu.Unlock()
		_ = s.Close()
		return
	}
	s.abandoned = true
	s.mu.Unlock()
}

func (s *Stream) handleOkay(remote uint32) {
	s.mu.Lock()
	if !s.open {
		if s.opened == nil || remote == 0 {
			s.mu.Unlock()
			return
		}
		s.open = true
		s.remoteID = remote
		if s.abandoned {
			s.mu.Unlock()
			s.closeFrom(true)
			return
		}
		s.mu.Unlock()
		s.credit <- struct{}{}
		close(s.opened)
		return
	}
	if remote != s.remoteID {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	select {
	case s.credit <- struct{}{}:
	default: // duplicate OKAY: ignore
	}
}

func (s *Stream) handleWrite(remote uint32, data []byte) {
	s.mu.Lock()
	if !s.open || remote != s.remoteID || s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= maxQueued {
		s.mu.Unlock()
		s.t.log.Debug("adb: peer ignores flow control; closing stream", "service", s.service)
		s.closeFrom(true)
		return
	}
	if len(data) == 0 {
		s.mu.Unlock()
		s.t.Post(wire.CmdOKAY, s.localID, remote, nil)
		return
	}
	s.queue = append(s.queue, data)
	ack := s.acked == 0
	if ack {
		s.acked = 1
	}
	s.mu.Unlock()
	s.notify()
	if ack {
		s.t.Post(wire.CmdOKAY, s.localID, remote, nil)
	}
}

func (s *Stream) handleClose(remote uint32) {
	s.mu.Lock()
	if !s.open {
		if s.opened != nil && remote == 0 {
			// The peer refused our OPEN.
			s.openErr = ErrRefused
			abandoned := s.abandoned
			s.mu.Unlock()
			s.t.remove(s.localID)
			if !abandoned {
				close(s.opened)
			}
			s.finish()
			return
		}
		s.mu.Unlock()
		return
	}
	if remote != s.remoteID && remote != 0 {
		s.mu.Unlock()
		return
	}
	s.remoteEnd = true
	if s.rerr == nil {
		s.rerr = io.EOF
	}
	s.closed = true
	s.mu.Unlock()
	s.t.remove(s.localID)
	s.finish()
	s.notify()
}
