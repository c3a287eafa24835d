package adb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultServerAddr is where the adb server listens by default.
const DefaultServerAddr = "127.0.0.1:5037"

// ServerClient talks to an adb server (the daemon the `adb` binary starts)
// over its smart socket. Every call opens a new socket, as the server
// requires. The zero value uses DefaultServerAddr.
type ServerClient struct {
	// Addr is the server's address (default DefaultServerAddr).
	Addr string
	// Dialer dials the server (default net.Dialer).
	Dialer *net.Dialer
}

// DeviceEntry is one line of `adb devices -l`.
type DeviceEntry struct {
	Serial string
	// State is "device", "offline", "unauthorized", "authorizing", ….
	State   string
	Product string
	Model   string
	Device  string
	// TransportID is the server's transport id, 0 when not reported.
	TransportID int
}

// ServerError is a FAIL answer from the adb server.
type ServerError struct{ Msg string }

func (e *ServerError) Error() string { return "adb server: " + e.Msg }

func (s *ServerClient) dial(ctx context.Context) (net.Conn, error) {
	addr := s.Addr
	if addr == "" {
		addr = DefaultServerAddr
	}
	d := s.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("adb: dial server %s: %w", addr, err)
	}
	return c, nil
}

// request sends one smart-socket request ("0012host:version") and reads
// OKAY, or FAIL with its message.
func request1(r io.Reader, w io.Writer, req string) error {
	if len(req) > 0xffff {
		return fmt.Errorf("adb: request too long (%d bytes)", len(req))
	}
	if _, err := fmt.Fprintf(w, "%04x%s", len(req), req); err != nil {
		return fmt.Errorf("adb: send %q: %w", req, err)
	}
	var status [4]byte
	if _, err := io.ReadFull(r, status[:]); err != nil {
		return fmt.Errorf("adb: read reply to %q: %w", req, err)
	}
	switch string(status[:]) {
	case "OKAY":
		return nil
	case "FAIL":
		msg, err := readHexString(r)
		if err != nil {
			return fmt.Errorf("adb: read failure of %q: %w", req, err)
		}
		return &ServerError{Msg: msg}
	}
	return fmt.Errorf("adb: unexpected reply %q to %q", status[:], req)
}

// readHexString reads a 4-hex-digit length and that many bytes.
func readHexString(r io.Reader) (string, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	size, err := strconv.ParseUint(string(n[:]), 16, 16)
	if err != nil {
		return "", fmt.Errorf("bad length %q", n[:])
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// query sends a host request and returns its length-prefixed answer.
func (s *ServerClient) query(ctx context.Context, req string) (string, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := request1(c, c, req); err != nil {
		return "", err
	}
	out, err := readHexString(c)
	if err != nil {
		return "", fmt.Errorf("adb: read answer to %q: %w", req, err)
	}
	return out, nil
}

// Version returns the server's protocol version (41 for platform-tools 29).
func (s *ServerClient) Version(ctx context.Context) (int, error) {
	v, err := s.query(ctx, "host:version")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("adb: bad version %q", v)
	}
	return int(n), nil
}

// Devices lists the devices the server knows (`adb devices -l`).
func (s *ServerClient) Devices(ctx context.Context) ([]DeviceEntry, error) {
	out, err := s.query(ctx, "host:devices-l")
	if err != nil {
		return nil, err
	}
	return ParseDevices(out), nil
}

// ParseDevices parses the text of host:devices-l or host:track-devices.
func ParseDevices(text string) []DeviceEntry {
	var out []DeviceEntry
	for _, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		e := DeviceEntry{Serial: fields[0], State: fields[1]}
		for _, f := range fields[2:] {
			k, v, _ := strings.Cut(f, ":")
			switch k {
			case "product":
				e.Product = v
			case "model":
				e.Model = v
			case "device":
				e.Device = v
			case "transport_id":
				e.TransportID, _ = strconv.Atoi(v)
			}
		}
		out = append(out, e)
	}
	return out
}

// TrackDevices calls fn with the full device list now and after every
// change, until ctx ends (returning nil) or the server connection fails.
func (s *ServerClient) TrackDevices(ctx context.Context, fn func([]DeviceEntry)) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	br := bufio.NewReader(c)
	if err := request1(br, c, "host:track-devices"); err != nil {
		return err
	}
	for {
		text, err := readHexString(br)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("adb: track devices: %w", err)
		}
		fn(ParseDevices(text))
	}
}

// Connect asks the server to connect to a network device ("host:port")
// and returns the server's message. adb answers OKAY even when the
// connection fails; Connect turns "failed"/"cannot"/"unable" messages into
// errors.
func (s *ServerClient) Connect(ctx context.Context, addr string) (string, error) {
	msg, err := s.query(ctx, "host:connect:"+addr)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(msg, "connected to") && !strings.HasPrefix(msg, "already connected to") {
		return msg, &ServerError{Msg: msg}
	}
	return msg, nil
}

// Disconnect drops a network device ("" drops all of them).
func (s *ServerClient) Disconnect(ctx context.Context, addr string) error {
	_, err := s.query(ctx, "host:disconnect:"+addr)
	return err
}

// KillServer asks the server to exit.
func (s *ServerClient) KillServer(ctx context.Context) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	return request1(c, c, "host:kill")
}

// Device returns the Device API for serial through this server.
func (s *ServerClient) Device(serial string) *ServerDevice {
	return &ServerDevice{s: s, serial: serial}
}

// WaitForDevice polls until serial is listed in state "device" or ctx ends.
func (s *ServerClient) WaitForDevice(ctx context.Context, serial string) error {
	for {
		devs, err := s.Devices(ctx)
		if err == nil {
			for _, d := range devs {
				if d.Serial == serial && d.State == "device" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("adb: wait for %s: %w", serial, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ServerDevice is one device reached through the adb server. Each call
// opens its own socket to the server (host:transport:SERIAL, then the
// service).
type ServerDevice struct {
	s      *ServerClient
	serial string

	mu    sync.Mutex
	feats []string
}

var _ Device = (*ServerDevice)(nil)

// Serial returns the device's serial.
func (d *ServerDevice) Serial() string { return d.serial }

// OpenStream implements Device. Closing the stream closes the socket.
func (d *ServerDevice) OpenStream(ctx context.Context, service string) (io.ReadWriteCloser, error) {
	c, err := d.s.dial(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := request1(c, c, "host:transport:"+d.serial); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := request1(c, c, service); err != nil {
		_ = c.Close()
		var se *ServerError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("adb: open %q: %w: %w", service, ErrRefused, err)
		}
		return nil, err
	}
	if ctx.Err() != nil {
		_ = c.Close()
		return nil, ctx.Err()
	}
	return c, nil
}

// Features implements Device; the answer is cached.
func (d *ServerDevice) Features(ctx context.Context) ([]string, error) {
	d.mu.Lock()
	f := d.feats
	d.mu.Unlock()
	if f != nil {
		return f, nil
	}
	out, err := d.s.query(ctx, "host-serial:"+d.serial+":features")
	if err != nil {
		return nil, err
	}
	f = []string{}
	for _, x := range strings.Split(strings.TrimSpace(out), ",") {
		if x != "" {
			f = append(f, x)
		}
	}
	d.mu.Lock()
	d.feats = f
	d.mu.Unlock()
	return f, nil
}

// Shell implements Device.
func (d *ServerDevice) Shell(ctx context.Context, cmd string) ([]byte, []byte, int, error) {
	return shell(ctx, d, cmd)
}

// RunShell implements Device.
func (d *ServerDevice) RunShell(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	return runShell(ctx, d, cmd, stdin, stdout, stderr)
}

// ExecOut implements Device.
func (d *ServerDevice) ExecOut(ctx context.Context, cmd string) ([]byte, error) {
	return execOut(ctx, d, cmd)
}

// Push implements Device.
func (d *ServerDevice) Push(ctx context.Context, r io.Reader, remotePath string, mode fs.FileMode, mtime time.Time) error {
	return push(ctx, d, r, remotePath, mode, mtime)
}

// Pull implements Device.
func (d *ServerDevice) Pull(ctx context.Context, remotePath string, w io.Writer) error {
	return pull(ctx, d, remotePath, w)
}

// Stat implements Device.
func (d *ServerDevice) Stat(ctx context.Context, path string) (FileInfo, error) {
	return stat(ctx, d, path)
}

// List implements Device.
func (d *ServerDevice) List(ctx context.Context, path string) ([]FileInfo, error) {
	return list(ctx, d, path)
}

// Reboot implements Device.
func (d *ServerDevice) Reboot(ctx context.Context, target string) error {
	return reboot(ctx, d, target)
}
