// Package qmp is a small client for QEMU's Machine Protocol: JSON objects,
// one per line, over a unix socket. Dial reads the greeting and
// negotiates capabilities (qmp_capabilities); Execute sends a command
// with an id and waits for the reply carrying that id. Asynchronous
// events (SHUTDOWN, STOP, RESUME, …) are skipped, except that the last
// one is remembered for diagnostics.
//
// Only what device-kvm needs is here: no OOB commands, no event
// subscription, no fd passing. A Client is safe for concurrent use;
// commands run one at a time, as QEMU's monitor does.
package qmp

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// ErrClosed is returned by calls on a closed client, and by calls in
// flight when QEMU closed the socket (it quit, or crashed).
var ErrClosed = errors.New("qmp: connection closed")

// maxLine bounds one JSON message from QEMU (query replies are small;
// human-monitor-command output is text).
const maxLine = 8 << 20

// Error is an error reply from QEMU: {"error": {"class", "desc"}}.
type Error struct {
	Command string
	Class   string
	Desc    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("qmp: %s: %s: %s", e.Command, e.Class, e.Desc)
}

// Version is QEMU's version from the greeting.
type Version struct {
	Major, Minor, Micro int
	Package             string
}

func (v Version) String() string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) + "." + strconv.Itoa(v.Micro)
}

// Status is the reply to query-status.
type Status struct {
	Running    bool   `json:"running"`
	Status     string `json:"status"` // "running", "paused", "shutdown", "inmigrate", …
	Singlestep bool   `json:"singlestep"`
}

// Client is one QMP connection.
type Client struct {
	conn    net.Conn
	version Version

	mu     sync.Mutex // one command at a time; guards id and the reader
	r      *bufio.Reader
	id     uint64
	closed bool

	evMu      sync.Mutex
	lastEvent string
}

// message is anything QEMU sends.
type message struct {
	QMP *struct {
		Version struct {
			QEMU struct {
				Major int `json:"major"`
				Minor int `json:"minor"`
				Micro int `json:"micro"`
			} `json:"qemu"`
			Package string `json:"package"`
		} `json:"version"`
	} `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string          `json:"event"`
	ID    json.RawMessage `json:"id"`
}

// Dial connects to the QMP unix socket at path, reads the greeting and
// leaves capabilities negotiation mode. ctx bounds the whole handshake.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: dial %s: %w", path, err)
	}
	c := &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	if err := c.handshake(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) handshake(ctx context.Context) error {
	stop := c.deadline(ctx)
	defer stop()
	var m message
	if err := c.read(&m); err != nil {
		return fmt.Errorf("qmp: greeting: %w", c.ctxErr(ctx, err))
	}
	if m.QMP == nil {
		return errors.New("qmp: greeting: not a QMP greeting")
	}
	q := m.QMP.Version.QEMU
	c.version = Version{Major: q.Major, Minor: q.Minor, Micro: q.Micro, Package: m.QMP.Version.Package}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.execLocked(ctx, "qmp_capabilities", nil); err != nil {
		return err
	}
	return nil
}

// Version returns QEMU's version from the greeting.
func (c *Client) Version() Version { return c.version }

// LastEvent returns the name of the last event QEMU sent ("" if none).
func (c *Client) LastEvent() string {
	c.evMu.Lock()
	defer c.evMu.Unlock()
	return c.lastEvent
}

// Execute runs command with args (nil for none) and returns its "return"
// value. An error reply is an *Error. When ctx ends mid-command the
// connection is closed (the reply could no longer be matched reliably)
// and ctx's error returned.
func (c *Client) Execute(ctx context.Context, command string, args any) (json.RawMessage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("qmp: %s: %w", command, ErrClosed)
	}
	stop := c.deadline(ctx)
	defer stop()
	return c.execLocked(ctx, command, args)
}

func (c *Client) execLocked(ctx context.Context, command string, args any) (json.RawMessage, error) {
	c.id++
	id := strconv.FormatUint(c.id, 10)
	req := struct {
		Execute   string `json:"execute"`
		Arguments any    `json:"arguments,omitempty"`
		ID        string `json:"id"`
	}{command, args, id}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("qmp: %s: encode: %w", command, err)
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		c.fail()
		return nil, fmt.Errorf("qmp: %s: %w", command, c.ctxErr(ctx, err))
	}
	for {
		var m message
		if err := c.read(&m); err != nil {
			c.fail()
			return nil, fmt.Errorf("qmp: %s: %w", command, c.ctxErr(ctx, err))
		}
		if m.Event != "" {
			c.evMu.Lock()
			c.lastEvent = m.Event
			c.evMu.Unlock()
			continue
		}
		var got string
		if len(m.ID) > 0 && json.Unmarshal(m.ID, &got) == nil && got != id {
			continue // a late reply to a command whose caller gave up
		}
		if m.Error != nil {
			return nil, &Error{Command: command, Class: m.Error.Class, Desc: m.Error.Desc}
		}
		if m.Return == nil {
			return json.RawMessage("{}"), nil
		}
		return m.Return, nil
	}
}

// read decodes one line.
func (c *Client) read(m *message) error {
	line, err := c.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(buf) < maxLine {
			line, err = c.r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return ErrClosed
		}
		return err
	}
	if err := json.Unmarshal(line, m); err != nil {
		return fmt.Errorf("decode %q: %w", truncate(line), err)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// deadline makes blocking I/O end when ctx does (not at ctx's deadline
// itself, so that ctx.Err() is set by then and reported); call the
// returned func when the I/O is over.
func (c *Client) deadline(ctx context.Context) func() {
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stop()
		_ = c.conn.SetDeadline(time.Time{})
	}
}

// ctxErr prefers ctx's error to the I/O error it caused.
func (c *Client) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// fail closes a connection whose stream state is no longer known.
func (c *Client) fail() {
	c.closed = true
	_ = c.conn.Close()
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return c.conn.Close()
}

// QueryStatus runs query-status.
func (c *Client) QueryStatus(ctx context.Context) (Status, error) {
	raw, err := c.Execute(ctx, "query-status", nil)
	if err != nil {
		return Status{}, err
	}
	var s Status
	if err := json.Unmarshal(raw, &s); err != nil {
		return Status{}, fmt.Errorf("qmp: query-status: decode: %w", err)
	}
	return s, nil
}

// Powerdown asks the guest to shut down (an ACPI power button press).
func (c *Client) Powerdown(ctx context.Context) error {
	_, err := c.Execute(ctx, "system_powerdown", nil)
	return err
}

// Quit makes QEMU exit at once. QEMU may close the socket before or
// after it replies; both count as success.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.Execute(ctx, "quit", nil)
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// HumanMonitorCommand runs a human monitor (HMP) command line and returns
// its text output.
func (c *Client) HumanMonitorCommand(ctx context.Context, line string) (string, error) {
	raw, err := c.Execute(ctx, "human-monitor-command", map[string]string{"command-line": line})
	if err != nil {
		return "", err
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("qmp: human-monitor-command: decode: %w", err)
	}
	return out, nil
}
