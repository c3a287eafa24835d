package adbd

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/internal/transport"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Server serves the adbd protocol for one Handler. The zero value is not
// usable: Handler is required. A Server may serve many connections at once;
// each is one adb transport with its own streams.
type Server struct {
	// Handler is the device.
	Handler Handler
	// Auth, when set, requires hosts to authenticate with an RSA key.
	// Nil accepts every host without AUTH, like a device with
	// ro.wire.secure=0.
	Auth *Auth
	// MaxData is the largest payload offered (default wire.MaxPayload).
	MaxData uint32
	// MaxStreams limits open streams per connection (default 4096).
	MaxStreams int
	// HandshakeTimeout bounds the wait for the host's CNXN (default 10s).
	// There is no limit while a key waits for confirmation.
	HandshakeTimeout time.Duration
	// Logger receives connection events (default slog.Default()).
	Logger *slog.Logger

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
}

// DropConnections closes every host connection the server is serving, as
// a cable pulled or a network drop would, and returns how many it closed.
// Hosts may reconnect at once. Fault injection in simulated phones uses it.
func (s *Server) DropConnections() int {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.conns {
		_ = c.Close()
	}
	return len(s.conns)
}

// Connections returns the number of host connections being served.
func (s *Server) Connections() int {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return len(s.conns)
}

func (s *Server) track(c net.Conn, add bool) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if !add {
		delete(s.conns, c)
		return
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
}

// Auth is the device's key store: the keys in adb_keys plus the "Allow USB
// debugging?" prompt. It is safe for concurrent use.
type Auth struct {
	// Confirm is asked about a key the host offers after its signatures
	// were rejected. Returning true authorizes the connection and
	// remembers the key ("always allow"). Nil rejects unknown keys; the
	// host then stays "unauthorized" until it disconnects.
	Confirm func(ctx context.Context, key *rsa.PublicKey, comment string) bool

	mu   sync.Mutex
	keys []*rsa.PublicKey
}

// NewAuth returns an Auth that accepts the given public keys.
func NewAuth(keys ...*rsa.PublicKey) *Auth {
	return &Auth{keys: keys}
}

// Allow adds a key to the accepted keys.
func (a *Auth) Allow(k *rsa.PublicKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, have := range a.keys {
		if have.Equal(k) {
			return
		}
	}
	a.keys = append(a.keys, k)
}

func (a *Auth) verify(token, sig []byte) bool {
	a.mu.Lock()
	keys := a.keys
	a.mu.Unlock()
	for _, k := range keys {
		if wire.VerifyToken(k, token, sig) {
			return true
		}
	}
	return false
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Serve accepts connections on ln and serves each in its own goroutine
// until ctx ends, then closes ln and every connection and returns nil
// once all have stopped. Other accept errors are returned (after the
// same cleanup).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Handler == nil {
		return errors.New("adbd: serve: nil handler")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if temporary(err) {
				// Out of file descriptors or a connection reset before
				// accept: wait a little and keep serving, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logger().Warn("adbd: accept failed; retrying", "err", err, "delay", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("adbd: accept: %w", err)
		}
		backoff = 0
		wg.Go(func() {
			if err := s.ServeConn(ctx, c); err != nil {
				s.logger().Debug("adbd: connection ended", "remote", c.RemoteAddr(), "err", err)
			}
		})
	}
}

func temporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM)
}

// ServeConn serves one host connection until it closes or ctx ends. It
// closes c and returns only after every stream goroutine has stopped. A
// clean disconnect returns nil.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) error {
	if s.Handler == nil {
		_ = c.Close()
		return errors.New("adbd: serve: nil handler")
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	s.track(c, true)
	defer s.track(c, false)
	br := bufio.NewReaderSize(c, 16*1024)
	banner := s.Handler.Banner()
	if len(banner.Features) == 0 {
		banner.Features = wire.DefaultFeatures()
	}
	if banner.Type == "" {
		banner.Type = "device"
	}
	bannerData := []byte(banner.String())
	name := banner.Device
	if name == "" {
		name = "localhost"
	}
	prompt := name + ":/ $ "
	version, maxData, err := s.handshake(ctx, br, c, bannerData)
	if err != nil {
		_ = c.Close()
		return err
	}
	log := s.logger().With("remote", c.RemoteAddr().String())
	log.Debug("adbd: host connected", "version", fmt.Sprintf("%#x", version), "maxdata", maxData)
	var t *transport.Transport
	remote := c.RemoteAddr().String()
	t = transport.New(br, c, c, transport.Config{
		MaxData:    maxData,
		Checksum:   version < wire.VersionSkipChecksum,
		MaxStreams: s.MaxStreams,
		Logger:     log,
		OnOpen: func(service string) transport.Service {
			return s.resolve(service, remote, prompt, func() { _ = t.Close() })
		},
		OnPacket: func(p wire.Packet) {
			if p.Command == wire.CmdCNXN {
				// The host restarted its side: answer again.
				t.Post(wire.CmdCNXN, version, maxData, bannerData)
			}
		},
	})
	return t.Run(ctx)
}

// handshake runs CNXN and, when required, AUTH. It returns the version and
// payload limit to use.
func (s *Server) handshake(ctx context.Context, br *bufio.Reader, c net.Conn, banner []byte) (uint32, uint32, error) {
	timeout := s.HandshakeTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	ours := s.MaxData
	if ours == 0 || ours > wire.MaxPayload {
		ours = wire.MaxPayload
	}
	var (
		version, maxData uint32
		token            []byte
		failures         int
		offered          bool
	)
	send := func(cmd wire.Command, a0, a1 uint32, data []byte) error {
		return wire.WritePacket(c, wire.Packet{Command: cmd, Arg0: a0, Arg1: a1, Data: data}, true)
	}
	newToken := func() error {
		token = make([]byte, wire.TokenSize)
		_, _ = rand.Read(token)
		return send(wire.CmdAUTH, wire.AuthToken, 0, token)
	}
	for {
		p, err := wire.ReadPacket(br, wire.MaxPayload, false)
		if err != nil {
			if ctx.Err() != nil {
				return 0, 0, ctx.Err()
			}
			return 0, 0, fmt.Errorf("adbd: handshake: %w", err)
		}
		switch {
		case p.Command == wire.CmdCNXN:
			version = min(p.Arg0, wire.VersionSkipChecksum)
			maxData = min(max(p.Arg1, 256), ours)
			if s.Auth == nil {
				return version, maxData, send(wire.CmdCNXN, version, maxData, banner)
			}
			_ = c.SetReadDeadline(time.Time{})
			if err := newToken(); err != nil {
				return 0, 0, err
			}
		case p.Command == wire.CmdAUTH && token != nil && p.Arg0 == wire.AuthSignature:
			if s.Auth.verify(token, p.Data) {
				return version, maxData, send(wire.CmdCNXN, version, maxData, banner)
			}
			if failures++; failures > 64 {
				return 0, 0, errors.New("adbd: handshake: too many failed signatures")
			}
			if err := newToken(); err != nil {
				return 0, 0, err
			}
		case p.Command == wire.CmdAUTH && token != nil && p.Arg0 == wire.AuthRSAPublicKey && !offered:
			offered = true
			key, comment, err := wire.ParsePublicKey(p.Data)
			if err != nil {
				s.logger().Info("adbd: host offered an unreadable key", "err", err)
				continue
			}
			if s.Auth.Confirm != nil && s.Auth.Confirm(ctx, key, comment) {
				s.Auth.Allow(key)
				return version, maxData, send(wire.CmdCNXN, version, maxData, banner)
			}
			s.logger().Info("adbd: host key rejected", "comment", comment)
		}
		// Anything else before the connection is up is ignored, as adbd does.
	}
}
