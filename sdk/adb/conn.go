package adb

import (
	"bufio"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/sdk/adb/internal/transport"
	"github.com/openautoglm/cloudphone/sdk/adb/wire"
)

// Aliases of the wire types the client API uses.
type (
	// Banner is a device's CNXN identity.
	Banner = wire.Banner
	// FileInfo describes a file on the device.
	FileInfo = wire.FileInfo
)

// Errors of Dial.
var (
	// ErrUnauthorized means the device rejected every key and did not
	// accept the offered public key in time.
	ErrUnauthorized = errors.New("adb: device unauthorized")
	// ErrAuthRequired means the device asked for authentication and no
	// key was configured.
	ErrAuthRequired = errors.New("adb: device requires authentication and no key is configured")
	// ErrClosed is returned by operations on a closed connection.
	ErrClosed = transport.ErrClosed
	// ErrRefused is returned when the device refuses a service.
	ErrRefused = transport.ErrRefused
)

// GenerateKey returns a new 2048-bit RSA key, as `adb keygen` makes.
func GenerateKey() (*rsa.PrivateKey, error) { return wire.GenerateKey() }

// LoadKey reads an adb private key file such as ~/.android/adbkey.
func LoadKey(path string) (*rsa.PrivateKey, error) { return wire.LoadKey(path) }

// LoadOrCreateKey loads the key at path, creating path and path+".pub"
// (adb's formats) when it does not exist.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) { return wire.LoadOrCreateKey(path) }

// DialOptions configures Dial and NewConn. The zero value connects without
// keys, which works with devices that do not require authentication.
type DialOptions struct {
	// Keys are tried in order when the device asks for a signature.
	Keys []*rsa.PrivateKey
	// NoPublicKey stops the client from offering Keys[0]'s public key
	// after every signature was rejected (which makes a phone show the
	// "Allow USB debugging?" prompt).
	NoPublicKey bool
	// KeyComment is the "user@host" sent with the public key (default
	// wire.DefaultKeyComment()).
	KeyComment string
	// AuthTimeout bounds the wait for the device to accept an offered
	// public key (default 10s; ctx's deadline also applies).
	AuthTimeout time.Duration
	// Features the client announces (default wire.DefaultFeatures()).
	Features []string
	// MaxData is the payload limit offered (default wire.MaxPayload).
	MaxData uint32
	// Dialer dials TCP (default net.Dialer with TCP keep-alive).
	Dialer *net.Dialer
	// Logger receives debug logs (default slog.Default()).
	Logger *slog.Logger
}

// Conn is one persistent connection to an adbd. It carries any number of
// concurrent streams and is safe for concurrent use.
type Conn struct {
	c       net.Conn
	t       *transport.Transport
	banner  Banner
	version uint32
	runErr  chan error
}

var _ Device = (*Conn)(nil)

// Dial connects to the adbd at addr ("host:port"), performs the CNXN and
// AUTH handshake and returns the connection. The handshake waits at most
// 10 seconds (adb's limit) plus AuthTimeout, or until ctx ends.
func Dial(ctx context.Context, addr string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	d := opts.Dialer
	if d == nil {
		d = &net.Dialer{KeepAlive: 30 * time.Second}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("adb: dial %s: %w", addr, err)
	}
	conn, err := NewConn(ctx, c, opts)
	if err != nil {
		return nil, fmt.Errorf("adb: connect %s: %w", addr, err)
	}
	return conn, nil
}

// NewConn performs the handshake on an established connection c and
// returns a Conn owning it. c is closed on failure.
func NewConn(ctx context.Context, c net.Conn, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	authWait := opts.AuthTimeout
	if authWait <= 0 {
		authWait = 10 * time.Second
	}
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second+authWait)
	defer cancel()
	stop := context.AfterFunc(hctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	br := bufio.NewReaderSize(c, 16*1024)
	version, maxData, banner, err := handshake(hctx, br, c, opts)
	if !stop() || err != nil {
		_ = c.Close()
		if err == nil || hctx.Err() != nil {
			err = fmt.Errorf("adb: handshake: %w", context.Cause(hctx))
		}
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	conn := &Conn{c: c, banner: wire.ParseBanner(banner), version: version, runErr: make(chan error, 1)}
	conn.t = transport.New(br, c, c, transport.Config{
		MaxData:  maxData,
		Checksum: version < wire.VersionSkipChecksum,
		Logger:   log,
	})
	go func() { conn.runErr <- conn.t.Run(context.Background()) }()
	return conn, nil
}

func handshake(ctx context.Context, br *bufio.Reader, c net.Conn, opts *DialOptions) (version, maxData uint32, banner string, err error) {
	ours := opts.MaxData
	if ours == 0 || ours > wire.MaxPayload {
		ours = wire.MaxPayload
	}
	features := opts.Features
	if features == nil {
		features = wire.DefaultFeatures()
	}
	send := func(cmd wire.Command, a0, a1 uint32, data []byte) error {
		return wire.WritePacket(c, wire.Packet{Command: cmd, Arg0: a0, Arg1: a1, Data: data}, true)
	}
	if err := send(wire.CmdCNXN, wire.VersionSkipChecksum, ours, []byte("host::features="+strings.Join(features, ","))); err != nil {
		return 0, 0, "", err
	}
	next, offered := 0, false
	var authDeadline <-chan time.Time
	for {
		p, err := readPacketCtx(ctx, br, authDeadline)
		if err != nil {
			return 0, 0, "", err
		}
		switch p.Command {
		case wire.CmdCNXN:
			return min(p.Arg0, wire.VersionSkipChecksum), min(max(p.Arg1, 256), ours), string(p.Data), nil
		case wire.CmdAUTH:
			if p.Arg0 != wire.AuthToken || len(p.Data) != wire.TokenSize {
				continue
			}
			switch {
			case next < len(opts.Keys):
				sig, err := wire.SignToken(opts.Keys[next], p.Data)
				if err != nil {
					return 0, 0, "", err
				}
				next++
				if err := send(wire.CmdAUTH, wire.AuthSignature, 0, sig); err != nil {
					return 0, 0, "", err
				}
			case len(opts.Keys) == 0:
				return 0, 0, "", ErrAuthRequired
			case offered || opts.NoPublicKey:
				return 0, 0, "", ErrUnauthorized
			default:
				comment := opts.KeyComment
				if comment == "" {
					comment = wire.DefaultKeyComment()
				}
				pub, err := wire.EncodePublicKey(&opts.Keys[0].PublicKey, comment)
				if err != nil {
					return 0, 0, "", err
				}
				if err := send(wire.CmdAUTH, wire.AuthRSAPublicKey, 0, append([]byte(pub), 0)); err != nil {
					return 0, 0, "", err
				}
				offered = true
				t := opts.AuthTimeout
				if t <= 0 {
					t = 10 * time.Second
				}
				authDeadline = time.After(t)
			}
		}
	}
}

// readPacketCtx reads a handshake packet; the connection's deadline (set
// by the caller's AfterFunc) unblocks it when ctx ends, and authDeadline
// turns a pending public-key prompt into ErrUnauthorized.
func readPacketCtx(ctx context.Context, br *bufio.Reader, authDeadline <-chan time.Time) (wire.Packet, error) {
	type result struct {
		p   wire.Packet
		err error
	}
	if authDeadline == nil {
		return wire.ReadPacket(br, wire.MaxPayload, false)
	}
	ch := make(chan result, 1)
	go func() {
		p, err := wire.ReadPacket(br, wire.MaxPayload, false)
		ch <- result{p, err}
	}()
	select {
	case r := <-ch:
		return r.p, r.err
	case <-authDeadline:
		return wire.Packet{}, ErrUnauthorized
	case <-ctx.Done():
		return wire.Packet{}, ctx.Err()
	}
}

// Banner returns the identity the device announced.
func (c *Conn) Banner() Banner { return c.banner }

// Features implements Device.
func (c *Conn) Features(context.Context) ([]string, error) { return c.banner.Features, nil }

// OpenStream opens a stream to service (e.g. "shell,v2,raw:ls",
// "exec:screencap -p", "sync:") on the persistent connection.
func (c *Conn) OpenStream(ctx context.Context, service string) (io.ReadWriteCloser, error) {
	s, err := c.t.Open(ctx, service)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.t.Done() }

// Close closes the connection and every stream on it.
func (c *Conn) Close() error {
	_ = c.t.Close()
	err := <-c.runErr
	c.runErr <- err
	return err
}
