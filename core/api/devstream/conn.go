package devstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// ServeHTTP serves GET /api/v1/devices/stream: it upgrades to a WebSocket
// and streams the caller's devices (see the package doc for the protocol).
// Query: session and resume to resume a session. Mount it behind the auth
// middleware (the route takes ?access_token=, as browsers cannot set
// headers on a WebSocket).
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scope, ok := h.scopeOf(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "no credentials: send Authorization: Bearer <token> or ?access_token=")
		return
	}
	q := r.URL.Query()
	var resume uint64
	if v := q.Get("resume"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("resume %q: want the last sequence number processed", v))
			return
		}
		resume = n
	}
	if !websocketUpgrade(r) {
		writeError(w, http.StatusUpgradeRequired, "upgrade_required", "this endpoint is a WebSocket: connect with Upgrade: websocket")
		return
	}
	s, resumed, err := h.attach(q.Get("session"), resume, scope, time.Now())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		s.detach(time.Now())
		h.log.Debug("device stream: accept failed", "err", err)
		return
	}
	conn.SetReadLimit(4096)
	h.serve(r.Context(), conn, s, resumed)
}

func websocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}

// serve runs one connection: a reader applying acks and a writer sending
// due packets until either side ends.
func (h *Hub) serve(ctx context.Context, conn *websocket.Conn, s *session, resumed bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := h.log.With("session", s.id)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			m, err := ParseClientMessage(b)
			if err == nil {
				err = s.handle(m)
			}
			if err != nil {
				readErr <- badMessage{err}
				return
			}
		}
	}()
	hello, _ := json.Marshal(Hello{Type: TypeHello, Session: s.id, Resumed: resumed, Seq: s.lastSeq()})
	if err := h.write(ctx, conn, hello); err != nil {
		s.detach(time.Now())
		return
	}
	tick := time.NewTicker(max(h.o.Retransmit/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		if reason, slow := s.tooSlow(); slow {
			log.Warn("device stream: disconnecting a slow client", "reason", reason)
			h.drop(s)
			_ = conn.Close(websocket.StatusPolicyViolation, reason)
			return
		}
		msgs, resent := s.due(time.Now(), h.o.Retransmit)
		if resent > 0 {
			log.Debug("device stream: retransmitting", "packets", resent)
		}
		for _, m := range msgs {
			if err := h.write(ctx, conn, m); err != nil {
				log.Debug("device stream: write failed", "err", err)
				s.detach(time.Now())
				_ = conn.Close(websocket.StatusGoingAway, "write failed")
				return
			}
		}
		select {
		case <-s.wake:
		case <-tick.C:
		case <-s.done:
			_ = conn.Close(websocket.StatusGoingAway, s.closing)
			return
		case err := <-readErr:
			s.detach(time.Now())
			var bad badMessage
			if errors.As(err, &bad) {
				h.drop(s)
				_ = conn.Close(websocket.StatusPolicyViolation, truncateReason(bad.Error()))
				return
			}
			conn.CloseNow()
			return
		case <-ctx.Done():
			s.detach(time.Now())
			conn.CloseNow()
			return
		}
	}
}

type badMessage struct{ err error }

func (b badMessage) Error() string { return "bad message: " + b.err.Error() }

// truncateReason fits a close reason in a control frame (123 bytes).
func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

func (h *Hub) write(ctx context.Context, conn *websocket.Conn, msg []byte) error {
	wctx, cancel := context.WithTimeout(ctx, h.o.WriteTimeout)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageText, msg); err != nil {
		return fmt.Errorf("device stream write: %w", err)
	}
	return nil
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
