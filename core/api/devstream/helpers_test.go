package devstream

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/openautoglm/cloudphone/core/auth"
	"github.com/openautoglm/cloudphone/core/pool"
)

// devices is an in-memory device list the tests edit: the Source input.
type devices struct {
	mu   sync.Mutex
	list []pool.DeviceStatus
}

func (d *devices) Devices() []pool.DeviceStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Copies, as the pool's are: the test edits its own.
	out := make([]pool.DeviceStatus, len(d.list))
	for i, ds := range d.list {
		ds.Labels = maps.Clone(ds.Labels)
		if ds.Lease != nil {
			l := *ds.Lease
			ds.Lease = &l
		}
		out[i] = ds
	}
	return out
}

func (d *devices) set(id string, f func(*pool.DeviceStatus)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.list {
		if d.list[i].ID == id {
			f(&d.list[i])
			return
		}
	}
	ds := pool.DeviceStatus{ID: id, Backend: "sim", Labels: map[string]string{}, State: "free", Health: pool.HealthStatus{Status: "healthy"}}
	f(&ds)
	d.list = append(d.list, ds)
}

func (d *devices) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.list {
		if d.list[i].ID == id {
			d.list = append(d.list[:i], d.list[i+1:]...)
			return
		}
	}
}

func newDevices(ids ...string) *devices {
	d := &devices{}
	for _, id := range ids {
		d.set(id, func(*pool.DeviceStatus) {})
	}
	return d
}

// start runs a Hub over src behind a server on 127.0.0.1 that gives every
// request principal p (nil: none).
func start(t *testing.T, o Options, p *auth.Principal) (*Hub, string) {
	t.Helper()
	if o.Interval == 0 {
		o.Interval = 10 * time.Millisecond
	}
	h := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p != nil {
			r = r.WithContext(auth.WithPrincipal(r.Context(), *p))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return h, "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/devices/stream"
}

var admin = &auth.Principal{Subject: "root", Tenant: "default", Role: auth.RoleAdmin, Kind: auth.KindUser}

// client is a test WebSocket client.
type client struct {
	t    *testing.T
	conn *websocket.Conn
}

func dial(t *testing.T, url string) (*client, Hello) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &client{t: t, conn: conn}
	var h Hello
	c.readJSON(&h)
	if h.Type != TypeHello || h.Session == "" {
		t.Fatalf("first message %+v, want a hello with a session", h)
	}
	return c, h
}

func (c *client) readJSON(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("decode %s: %v", b, err)
	}
}

// packet reads the next packet and checks its hash.
func (c *client) packet() Packet {
	c.t.Helper()
	var p Packet
	c.readJSON(&p)
	if p.Type != TypeState {
		c.t.Fatalf("message %+v, want a state packet", p)
	}
	if err := p.Verify(); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *client) send(m ClientMessage) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatalf("send %+v: %v", m, err)
	}
}

func status(t *testing.T, p Packet) pool.DeviceStatus {
	t.Helper()
	var d pool.DeviceStatus
	if err := json.Unmarshal([]byte(p.Data), &d); err != nil {
		t.Fatalf("packet %d data: %v", p.Seq, err)
	}
	return d
}

// checkFor polls f until it returns nil or wait passes.
func checkFor(t *testing.T, wait time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// session returns a session by id.
func (h *Hub) session(t *testing.T, id string) *session {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[id]
	if !ok {
		t.Fatalf("no session %s", id)
	}
	return s
}
