package devstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/pool"
)

var (
	errTooManySessions = errors.New("too many device stream sessions")
	errInUse           = errors.New("session is in use by another connection")
	errDropped         = errors.New("session was dropped")
)

// session is one client's stream: its sequence, the packets it has not
// acknowledged, and what it has been told.
type session struct {
	id    string
	scope scopeFunc
	max   int
	wake  chan struct{} // cap 1: packets to send, or the session is done
	done  chan struct{} // closed by shutdown

	mu         sync.Mutex
	seq        uint64
	pending    []*entry          // unacknowledged, by seq
	unsent     map[string]*entry // device id → its pending entry never sent yet
	told       map[string]string // device id → hash of the last data queued
	attached   bool
	detachedAt time.Time
	slow       bool // exceeded max: to be disconnected
	closing    string
}

type entry struct {
	dev    string
	seq    uint64
	msg    []byte
	sentAt time.Time // zero: due now
	sends  int
}

func newSession(id string, scope scopeFunc, max int) *session {
	return &session{id: id, scope: scope, max: max, wake: make(chan struct{}, 1), done: make(chan struct{}),
		told: map[string]string{}, unsent: map[string]*entry{}}
}

func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// update queues device id's new state (nil: gone) if the caller's view of
// it changed. It never blocks: the hub calls it holding its lock.
func (s *session) update(id string, d *pool.DeviceStatus, now time.Time) {
	data := "null"
	if d != nil {
		if view, ok := s.scope(*d); ok {
			b, err := json.Marshal(view)
			if err != nil {
				return
			}
			data = string(b)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slow {
		return
	}
	prev, told := s.told[id]
	if data == "null" && !told {
		return // never shown, nothing to retract
	}
	h := Hash(data)
	if told && prev == h {
		return
	}
	if data == "null" {
		delete(s.told, id)
	} else {
		s.told[id] = h
	}
	if e, ok := s.unsent[id]; ok {
		// Not sent yet: the newer state takes its place and its seq, so a
		// stalled or absent client costs at most one packet per device.
		if msg, err := json.Marshal(Packet{Type: TypeState, DeviceID: id, Seq: e.seq, Timestamp: now.UTC(), Data: data, Hash: h}); err == nil {
			e.msg = msg
		}
		return
	}
	// Sent and unacknowledged: one per device shown (a snapshot) plus max.
	if sent := len(s.pending) - len(s.unsent); sent >= s.max+len(s.told) {
		s.slow = true
		s.signal()
		return
	}
	s.seq++
	msg, err := json.Marshal(Packet{Type: TypeState, DeviceID: id, Seq: s.seq, Timestamp: now.UTC(), Data: data, Hash: h})
	if err != nil {
		return
	}
	e := &entry{dev: id, seq: s.seq, msg: msg}
	s.pending = append(s.pending, e)
	s.unsent[id] = e
	s.signal()
}

// attach binds a connection to the session; resume acknowledges every
// packet up to it and makes the rest due again.
func (s *session) attach(resume uint64, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.attached:
		return errInUse
	case s.slow || s.closing != "":
		return errDropped
	}
	s.attached = true
	s.ackUpto(resume)
	for _, e := range s.pending {
		e.sentAt = time.Time{}
	}
	return nil
}

func (s *session) detach(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attached, s.detachedAt = false, now
}

func (s *session) expired(now time.Time, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.attached && (s.slow || now.Sub(s.detachedAt) > ttl)
}

// shutdown ends the session's connection with reason.
func (s *session) shutdown(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing == "" {
		s.closing = reason
		close(s.done)
	}
}

func (s *session) lastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// tooSlow returns the close reason when the client fell too far behind.
func (s *session) tooSlow() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.slow {
		return "", false
	}
	return fmt.Sprintf("client too slow: more than %d packets unacknowledged", s.max+len(s.told)), true
}

// ackUpto removes the packets up to seq; s.mu is held.
func (s *session) ackUpto(seq uint64) {
	i := sort.Search(len(s.pending), func(i int) bool { return s.pending[i].seq > seq })
	for _, e := range s.pending[:i] {
		s.forget(e)
	}
	s.pending = append(s.pending[:0], s.pending[i:]...)
}

// handle applies a client message.
func (s *session) handle(m ClientMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.Seq > s.seq || m.Upto > s.seq {
		return fmt.Errorf("%s of seq %d, but the last packet sent is %d", m.Type, max(m.Seq, m.Upto), s.seq)
	}
	switch m.Type {
	case TypeAck:
		if m.Upto > 0 {
			s.ackUpto(m.Upto)
		}
		if m.Seq > 0 {
			if i, ok := s.find(m.Seq); ok {
				s.forget(s.pending[i])
				s.pending = append(s.pending[:i], s.pending[i+1:]...)
			}
		}
	case TypeNack:
		if i, ok := s.find(m.Seq); ok {
			s.pending[i].sentAt = time.Time{}
			s.signal()
		}
	}
	return nil
}

// forget drops a removed entry from unsent; s.mu is held.
func (s *session) forget(e *entry) {
	if s.unsent[e.dev] == e {
		delete(s.unsent, e.dev)
	}
}

func (s *session) find(seq uint64) (int, bool) {
	i := sort.Search(len(s.pending), func(i int) bool { return s.pending[i].seq >= seq })
	return i, i < len(s.pending) && s.pending[i].seq == seq
}

// due returns the packets to send now: never sent, nacked, or sent longer
// than retransmit ago; it marks them sent.
func (s *session) due(now time.Time, retransmit time.Duration) (msgs [][]byte, resent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.pending {
		if !e.sentAt.IsZero() && now.Sub(e.sentAt) < retransmit {
			continue
		}
		if e.sends > 0 {
			resent++
		} else {
			s.forget(e)
		}
		e.sentAt = now
		e.sends++
		msgs = append(msgs, e.msg)
	}
	return msgs, resent
}

func (s *session) unacked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
