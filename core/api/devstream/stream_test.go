package devstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/pool"
)

func TestSnapshotThenChangesInOrder(t *testing.T) {
	src := newDevices("sim/a", "sim/b", "sim/c")
	_, url := start(t, Options{Source: src}, admin)
	c, hello := dial(t, url)
	if hello.Resumed {
		t.Error("a new session says resumed")
	}
	for i, id := range []string{"sim/a", "sim/b", "sim/c"} {
		p := c.packet()
		if p.Seq != uint64(i+1) || p.DeviceID != id {
			t.Fatalf("snapshot packet %d: seq %d device %s, want seq %d device %s", i, p.Seq, p.DeviceID, i+1, id)
		}
		if d := status(t, p); d.ID != id || d.State != "free" {
			t.Errorf("packet %d data: %+v", p.Seq, d)
		}
		c.send(ClientMessage{Type: TypeAck, Seq: p.Seq})
	}
	src.set("sim/b", func(d *pool.DeviceStatus) { d.State = "leased" })
	p := c.packet()
	if p.Seq != 4 || p.DeviceID != "sim/b" || status(t, p).State != "leased" {
		t.Fatalf("change packet: %+v", p)
	}
	src.set("sim/c", func(d *pool.DeviceStatus) { d.Health.Status = "unhealthy" })
	src.remove("sim/a")
	got := map[string]Packet{}
	for range 2 {
		p := c.packet()
		got[p.DeviceID] = p
	}
	if p := got["sim/a"]; p.Data != "null" {
		t.Errorf("removed device: data %q, want null", p.Data)
	}
	if p := got["sim/c"]; status(t, p).Health.Status != "unhealthy" {
		t.Errorf("sim/c: %s", p.Data)
	}
	if a, c := got["sim/a"].Seq, got["sim/c"].Seq; a+c != 5+6 {
		t.Errorf("seqs %d and %d, want 5 and 6", a, c)
	}
}

func TestRetransmitAfterDroppedAck(t *testing.T) {
	src := newDevices("sim/a", "sim/b", "sim/c")
	h, url := start(t, Options{Source: src, Retransmit: 100 * time.Millisecond}, admin)
	c, _ := dial(t, url)
	for range 3 {
		c.packet()
	}
	// The ack of 2 is lost.
	c.send(ClientMessage{Type: TypeAck, Seq: 1})
	c.send(ClientMessage{Type: TypeAck, Seq: 3})
	sent := time.Now()
	p := c.packet()
	if p.Seq != 2 || p.DeviceID != "sim/b" {
		t.Fatalf("retransmitted %d (%s), want 2 (sim/b)", p.Seq, p.DeviceID)
	}
	if waited := time.Since(sent); waited < 50*time.Millisecond {
		t.Errorf("packet 2 came again after %v, before the retransmit timeout", waited)
	}
	c.send(ClientMessage{Type: TypeAck, Seq: 2})
	checkFor(t, 2*time.Second, func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, s := range h.sessions {
			if n := s.unacked(); n != 0 {
				return fmt.Errorf("%d packets unacked after acking all", n)
			}
		}
		return nil
	})
	// The next packet is a new one, not a retransmission.
	src.set("sim/a", func(d *pool.DeviceStatus) { d.State = "drained" })
	if p := c.packet(); p.Seq != 4 {
		t.Errorf("after all acks: packet %d, want 4", p.Seq)
	}
}

func TestResumeAfterReconnect(t *testing.T) {
	src := newDevices("sim/a", "sim/b", "sim/c")
	h, url := start(t, Options{Source: src, Retransmit: time.Hour}, admin)
	c, hello := dial(t, url)
	for range 3 {
		c.packet()
	}
	c.send(ClientMessage{Type: TypeAck, Upto: 2})
	checkFor(t, 2*time.Second, func() error {
		if n := h.session(t, hello.Session).unacked(); n != 1 {
			return fmt.Errorf("%d unacked, want 1", n)
		}
		return nil
	})
	c.conn.CloseNow()
	// A change while the client is away is kept for it.
	src.set("sim/a", func(d *pool.DeviceStatus) { d.State = "leased" })
	checkFor(t, 2*time.Second, func() error {
		if s := h.session(t, hello.Session); s.lastSeq() != 4 {
			return fmt.Errorf("session seq %d, want 4", s.lastSeq())
		}
		return nil
	})
	c2, hello2 := dial(t, fmt.Sprintf("%s?session=%s&resume=2", url, hello.Session))
	if !hello2.Resumed || hello2.Session != hello.Session || hello2.Seq != 4 {
		t.Fatalf("resume hello %+v, want session %s resumed at 4", hello2, hello.Session)
	}
	p3, p4 := c2.packet(), c2.packet()
	if p3.Seq != 3 || p3.DeviceID != "sim/c" || p4.Seq != 4 || status(t, p4).State != "leased" {
		t.Fatalf("after resume: %d %s, %d %s", p3.Seq, p3.DeviceID, p4.Seq, p4.Data)
	}
	// An unknown session starts afresh with a snapshot.
	c3, hello3 := dial(t, url+"?session=feedface&resume=9")
	if hello3.Resumed || hello3.Session == "feedface" {
		t.Errorf("unknown session resumed: %+v", hello3)
	}
	if p := c3.packet(); p.Seq != 1 || p.DeviceID != "sim/a" {
		t.Errorf("fresh session first packet %+v", p)
	}
}

func TestHashDetectsCorruptionAndNackResends(t *testing.T) {
	src := newDevices("sim/a")
	_, url := start(t, Options{Source: src, Retransmit: time.Hour}, admin)
	c, _ := dial(t, url)
	p := c.packet()
	bad := p
	bad.Data = strings.Replace(bad.Data, `"free"`, `"fre3"`, 1)
	if bad.Data == p.Data {
		t.Fatal("test could not corrupt the packet")
	}
	if err := bad.Verify(); err == nil {
		t.Fatal("a corrupted packet passed its hash check")
	}
	c.send(ClientMessage{Type: TypeNack, Seq: p.Seq})
	again := c.packet() // verified inside
	if again.Seq != p.Seq || again.Data != p.Data {
		t.Errorf("nack resent %+v, want packet %d again", again, p.Seq)
	}
}

func TestSlowClientDisconnected(t *testing.T) {
	src := newDevices("sim/a")
	h, url := start(t, Options{Source: src, MaxUnacked: 4, Retransmit: time.Hour}, admin)
	c, hello := dial(t, url)
	go func() {
		for i := range 20 {
			src.set("sim/a", func(d *pool.DeviceStatus) { d.Health.Misses = i + 1 })
			time.Sleep(15 * time.Millisecond)
		}
	}()
	var err error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, err = c.conn.Read(ctx) // read, never ack
		cancel()
		if err != nil {
			break
		}
	}
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "too slow") {
		t.Fatalf("slow client ended with %v, want close 1008 saying too slow", err)
	}
	checkFor(t, 2*time.Second, func() error {
		if n := h.Sessions(); n != 0 {
			return fmt.Errorf("%d sessions after the slow client, want 0", n)
		}
		return nil
	})
	_, h2 := dial(t, fmt.Sprintf("%s?session=%s&resume=1", url, hello.Session))
	if h2.Resumed {
		t.Error("a dropped slow session was resumed")
	}
}

func TestBadClientMessage(t *testing.T) {
	src := newDevices("sim/a")
	_, url := start(t, Options{Source: src}, admin)
	c, _ := dial(t, url)
	c.packet()
	tests := []string{`{"type":"ack"}`, `{"type":"ack","seq":99}`, `{"type":"hello"}`, `not json`}
	for _, msg := range tests {
		c, _ := dial(t, url)
		if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		var err error
		for err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _, err = c.conn.Read(ctx)
			cancel()
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "bad message") {
			t.Errorf("message %s: ended with %v, want close 1008 bad message", msg, err)
		}
	}
}

func TestTenantScopeAndAuth(t *testing.T) {
	src := newDevices("sim/shared", "sim/mine", "sim/theirs")
	src.set("sim/mine", func(d *pool.DeviceStatus) { d.Labels["tenant"] = "acme" })
	src.set("sim/theirs", func(d *pool.DeviceStatus) { d.Labels["tenant"] = "globex" })
	src.set("sim/shared", func(d *pool.DeviceStatus) {
		d.State = "leased"
		d.Lease = &pool.LeaseStatus{ID: "l1", Owner: "task-9", Tenant: "globex"}
	})
	viewer := &auth.Principal{Subject: "v", Tenant: "acme", Role: auth.RoleViewer, Kind: auth.KindUser}
	_, url := start(t, Options{Source: src}, viewer)
	c, _ := dial(t, url)
	seen := map[string]pool.DeviceStatus{}
	for range 2 {
		p := c.packet()
		seen[p.DeviceID] = status(t, p)
	}
	if _, ok := seen["sim/theirs"]; ok || len(seen) != 2 {
		t.Fatalf("acme sees %v, want sim/mine and sim/shared", seen)
	}
	if l := seen["sim/shared"].Lease; l == nil || l.Tenant != "" || l.Owner != "" {
		t.Errorf("another tenant's lease shown as %+v, want it without owner and tenant", l)
	}
	// A device moving to another tenant is retracted.
	src.set("sim/mine", func(d *pool.DeviceStatus) { d.Labels["tenant"] = "globex" })
	if p := c.packet(); p.DeviceID != "sim/mine" || p.Data != "null" {
		t.Errorf("after relabel: %+v, want sim/mine null", p)
	}

	// No principal: 401 unless auth is off.
	_, noAuth := start(t, Options{Source: src}, nil)
	_, resp, err := websocket.Dial(context.Background(), noAuth, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no principal: err %v resp %v, want 401", err, resp)
	}
	_, off := start(t, Options{Source: src, AuthOff: true}, nil)
	c2, _ := dial(t, off)
	n := 0
	for range 3 {
		c2.packet()
		n++
	}
	if n != 3 {
		t.Errorf("auth off: %d devices, want 3", n)
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	_, url := start(t, Options{Source: newDevices()}, admin)
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %d, want 426", resp.StatusCode)
	}
	resp, err = http.Get("http" + strings.TrimPrefix(url, "ws") + "?resume=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad resume: %d, want 400", resp.StatusCode)
	}
}

// TestCoalescedWhileAway: changes while a client is away cost one packet
// per device (the latest state), however many, and a snapshot larger than
// MaxUnacked is no reason to drop a client.
func TestCoalescedWhileAway(t *testing.T) {
	ids := []string{"sim/0", "sim/1", "sim/2", "sim/3", "sim/4", "sim/5", "sim/6", "sim/7"}
	src := newDevices(ids...)
	h, url := start(t, Options{Source: src, MaxUnacked: 2, Retransmit: time.Hour}, admin)
	c, hello := dial(t, url)
	for i := range ids {
		if p := c.packet(); p.Seq != uint64(i+1) {
			t.Fatalf("snapshot packet %d has seq %d", i, p.Seq)
		}
	}
	c.send(ClientMessage{Type: TypeAck, Upto: uint64(len(ids))})
	checkFor(t, 2*time.Second, func() error {
		if n := h.session(t, hello.Session).unacked(); n != 0 {
			return fmt.Errorf("%d unacked", n)
		}
		return nil
	})
	c.conn.CloseNow()
	checkFor(t, 2*time.Second, func() error {
		s := h.session(t, hello.Session)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.attached {
			return errors.New("session still attached")
		}
		return nil
	})
	for i := range 30 {
		src.set("sim/3", func(d *pool.DeviceStatus) { d.Health.Misses = i + 1 })
		src.set("sim/5", func(d *pool.DeviceStatus) { d.State = []string{"leased", "free"}[i%2] })
		time.Sleep(12 * time.Millisecond)
	}
	checkFor(t, 2*time.Second, func() error {
		if got := h.session(t, hello.Session).unacked(); got != 2 {
			return fmt.Errorf("%d packets kept for the absent client, want 2 (one per changed device)", got)
		}
		return nil
	})
	c2, h2 := dial(t, fmt.Sprintf("%s?session=%s&resume=%d", url, hello.Session, len(ids)))
	if !h2.Resumed {
		t.Fatalf("session dropped: %+v", h2)
	}
	got := map[string]Packet{}
	for range 2 {
		p := c2.packet()
		got[p.DeviceID] = p
	}
	if s := status(t, got["sim/3"]); s.Health.Misses != 30 {
		t.Errorf("sim/3 resumed with misses %d, want the latest (30)", s.Health.Misses)
	}
	if s := status(t, got["sim/5"]); s.State != "free" {
		t.Errorf("sim/5 resumed as %s, want the latest (free)", s.State)
	}
	if a, b := got["sim/3"].Seq, got["sim/5"].Seq; a != 9 || b != 10 {
		t.Errorf("seqs %d and %d, want 9 and 10 (dense)", a, b)
	}
}
