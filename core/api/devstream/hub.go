package devstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/pool"
)

// Source lists the devices to stream; *pool.Pool is one.
type Source interface {
	Devices() []pool.DeviceStatus
}

// Options configure a Hub. Zero values take the defaults.
type Options struct {
	// Source is polled for device states (required).
	Source Source
	// Interval is the poll period (default 500ms).
	Interval time.Duration
	// Retransmit is how long a packet waits for its ack before it is sent
	// again (default 2s).
	Retransmit time.Duration
	// MaxUnacked bounds the packets sent to a client and not acknowledged,
	// beyond one per device it is shown (a snapshot); past it the client
	// is too slow and is disconnected (default 1024). Packets not sent
	// yet (the client is away, or the socket is busy) are coalesced: at
	// most one per device, the latest state.
	MaxUnacked int
	// SessionTTL is how long a disconnected session stays resumable
	// (default 1m).
	SessionTTL time.Duration
	// MaxSessions bounds live and resumable sessions together; beyond it
	// new connections get 503 (default 1024).
	MaxSessions int
	// WriteTimeout bounds one WebSocket write (default 10s).
	WriteTimeout time.Duration
	// AuthOff serves requests that carry no auth.Principal as an admin
	// (the API's auth switched off). Otherwise such a request is 401.
	AuthOff bool
	Logger  *slog.Logger
}

// Hub polls a Source and streams changes to WebSocket sessions.
//
// Lock order: Hub.mu before session.mu.
type Hub struct {
	o    Options
	log  *slog.Logger
	poke chan struct{}

	mu       sync.Mutex
	last     map[string]pool.DeviceStatus // the last poll, by id
	lastJSON map[string][]byte
	order    []string // ids of last, sorted
	sessions map[string]*session
}

// New makes a Hub; call Run to start polling.
func New(o Options) *Hub {
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Retransmit <= 0 {
		o.Retransmit = 2 * time.Second
	}
	if o.MaxUnacked <= 0 {
		o.MaxUnacked = 1024
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = time.Minute
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1024
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Hub{o: o, log: o.Logger.With("component", "devstream"), poke: make(chan struct{}, 1),
		last: map[string]pool.DeviceStatus{}, lastJSON: map[string][]byte{}, sessions: map[string]*session{}}
}

// Run polls the Source until ctx ends, then closes every session.
func (h *Hub) Run(ctx context.Context) error {
	t := time.NewTicker(h.o.Interval)
	defer t.Stop()
	h.poll(time.Now())
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return nil
		case now := <-t.C:
			h.poll(now)
			h.expire(now)
		case <-h.poke:
			h.poll(time.Now())
		}
	}
}

// Poke makes Run poll now (a device changed).
func (h *Hub) Poke() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// poll diffs the Source against the last poll and hands the changes to
// every session.
func (h *Hub) poll(now time.Time) {
	devs := h.o.Source.Devices()
	cur := make(map[string]pool.DeviceStatus, len(devs))
	curJSON := make(map[string][]byte, len(devs))
	order := make([]string, 0, len(devs))
	var changed []string
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range devs {
		b, err := json.Marshal(d)
		if err != nil {
			h.log.Warn("device status does not encode", "device_id", d.ID, "err", err)
			continue
		}
		cur[d.ID], curJSON[d.ID] = d, b
		order = append(order, d.ID)
		if !bytes.Equal(h.lastJSON[d.ID], b) {
			changed = append(changed, d.ID)
		}
	}
	var removed []string
	for id := range h.last {
		if _, ok := cur[id]; !ok {
			removed = append(removed, id)
		}
	}
	h.last, h.lastJSON, h.order = cur, curJSON, order
	if len(changed) == 0 && len(removed) == 0 {
		return
	}
	for _, s := range h.sessions {
		for _, id := range changed {
			d := cur[id]
			s.update(id, &d, now)
		}
		for _, id := range removed {
			s.update(id, nil, now)
		}
	}
}

// expire drops sessions disconnected for longer than SessionTTL.
func (h *Hub) expire(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.sessions {
		if s.expired(now, h.o.SessionTTL) {
			delete(h.sessions, id)
		}
	}
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, s := range h.sessions {
		s.shutdown("server shutting down")
		delete(h.sessions, id)
	}
}

// attach finds the session to resume, or makes a new one with a snapshot
// of the devices scope lets the caller see.
func (h *Hub) attach(id string, resume uint64, scope scopeFunc, now time.Time) (*session, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sessions[id]; ok && id != "" {
		if err := s.attach(resume, now); err == nil {
			return s, true, nil
		}
		// In use by another connection, or dropped: start afresh.
	}
	if len(h.sessions) >= h.o.MaxSessions {
		return nil, false, errTooManySessions
	}
	s := newSession(newID(), scope, h.o.MaxUnacked)
	for _, devID := range h.order {
		d := h.last[devID]
		s.update(devID, &d, now)
	}
	_ = s.attach(0, now)
	h.sessions[s.id] = s
	return s, false, nil
}

// drop forgets a session (too slow, or misbehaving).
func (h *Hub) drop(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
}

// Sessions returns the number of live and resumable sessions.
func (h *Hub) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// scopeFunc returns what a caller may see of a device, and whether it may
// see it at all.
type scopeFunc func(pool.DeviceStatus) (pool.DeviceStatus, bool)

// scopeOf is the caller's view: the tenant rule of GET /api/v1/devices
// (a device labelled with another tenant is hidden, the lease of a shared
// device held by another tenant is shown without its owner).
func (h *Hub) scopeOf(r *http.Request) (scopeFunc, bool) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		if !h.o.AuthOff {
			return nil, false
		}
		return func(d pool.DeviceStatus) (pool.DeviceStatus, bool) { return d, true }, true
	}
	return func(d pool.DeviceStatus) (pool.DeviceStatus, bool) {
		if t := d.Labels["tenant"]; (t != "" && !p.CanSee(t)) || !p.CanUseDevice(d.ID) {
			return d, false
		}
		if d.Lease != nil && !p.CanSee(d.Lease.Tenant) {
			l := *d.Lease
			l.Owner, l.Tenant = "", ""
			d.Lease = &l
		}
		return d, true
	}, true
}
