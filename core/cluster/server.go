package cluster

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure an embedded NATS server.
type ServerOptions struct {
	// Name is the server's name, unique in its cluster (default: a
	// generated one).
	Name string
	// StoreDir is where JetStream keeps its streams. Required.
	StoreDir string
	// Listen is the client host:port ("127.0.0.1:0" picks a free port);
	// empty serves in-process connections only.
	Listen string
	// ClusterName, ClusterListen and Routes make the server a member of a
	// route cluster: ClusterListen is the host:port for routes
	// ("127.0.0.1:0" picks one), Routes the other members' route URLs
	// (nats-route://host:port; its own may be listed too). A JetStream
	// cluster member needs all three at start.
	ClusterName   string
	ClusterListen string
	Routes        []string
	// Logger receives the server's warnings and errors (nil: discarded).
	Logger *slog.Logger
	// ReadyTimeout bounds the start (default 10s).
	ReadyTimeout time.Duration
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	s *server.Server
}

// StartServer starts an embedded NATS server with JetStream and waits
// until it accepts connections.
func StartServer(opts ServerOptions) (*Server, error) {
	if opts.StoreDir == "" {
		return nil, fmt.Errorf("start nats server: no store directory")
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	so := &server.Options{
		ServerName: opts.Name,
		JetStream:  true,
		StoreDir:   opts.StoreDir,
		NoSigs:     true,
		NoLog:      opts.Logger == nil,
		// Small JetStream limits keep a test server from claiming the
		// whole disk and memory; production clusters set their own.
		JetStreamMaxMemory: 256 << 20,
	}
	if opts.Listen == "" {
		so.DontListen = true
	} else {
		host, port, err := splitHostPort(opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("start nats server: listen %q: %w", opts.Listen, err)
		}
		so.Host, so.Port = host, port
		if port == 0 {
			so.Port = server.RANDOM_PORT
		}
	}
	if opts.ClusterName != "" || opts.ClusterListen != "" || len(opts.Routes) > 0 {
		if opts.ClusterName == "" || opts.ClusterListen == "" {
			return nil, fmt.Errorf("start nats server: a cluster member needs a cluster name and a route listen address")
		}
		host, port, err := splitHostPort(opts.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("start nats server: cluster listen %q: %w", opts.ClusterListen, err)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		so.Cluster = server.ClusterOpts{Name: opts.ClusterName, Host: host, Port: port}
		for _, r := range opts.Routes {
			u, err := url.Parse(r)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("start nats server: route %q is not a URL like nats-route://host:port", r)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	s, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("start nats server: %w", err)
	}
	if opts.Logger != nil {
		s.SetLoggerV2(slogAdapter{opts.Logger.With("component", "nats-server")}, false, false, false)
	}
	s.Start()
	if !s.ReadyForConnections(opts.ReadyTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("start nats server: not ready after %s (a JetStream cluster member without routes never is; the server log says why)", opts.ReadyTimeout)
	}
	return &Server{s: s}, nil
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// Name is the server's name.
func (s *Server) Name() string { return s.s.Name() }

// ClientURL is the URL clients connect to; empty for an in-process-only
// server.
func (s *Server) ClientURL() string {
	if s.s.Addr() == nil {
		return ""
	}
	return s.s.ClientURL()
}

// RouteURL is the URL other cluster members route to; empty when the
// server is not a cluster member.
func (s *Server) RouteURL() string {
	a := s.s.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// MetaLeader is the name of the JetStream meta leader as this server sees
// it ("" while none is elected).
func (s *Server) MetaLeader() string {
	if !s.s.JetStreamIsClustered() {
		return s.s.Name()
	}
	info, err := s.s.Jsz(&server.JSzOptions{})
	if err != nil || info.Meta == nil {
		return ""
	}
	return info.Meta.Leader
}

// ClusterSize is the number of JetStream peers this server knows (1 when
// not clustered).
func (s *Server) ClusterSize() int {
	if !s.s.JetStreamIsClustered() {
		return 1
	}
	info, err := s.s.Jsz(&server.JSzOptions{})
	if err != nil || info.Meta == nil {
		return 0
	}
	return info.Meta.Size
}

// Shutdown stops the server and waits until it has.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

// inProcess is the embedded server for nats.InProcessServer.
func (s *Server) inProcess() *server.Server { return s.s }

// slogAdapter routes the server's log lines to slog. Debug and trace lines
// are dropped: the server is told not to produce them.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Noticef(format string, v ...any) { a.l.Debug(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Warnf(format string, v ...any)   { a.l.Warn(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Fatalf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Errorf(format string, v ...any)  { a.l.Error(fmt.Sprintf(format, v...)) }
func (a slogAdapter) Debugf(format string, v ...any)  {}
func (a slogAdapter) Tracef(format string, v ...any)  {}

var _ server.Logger = slogAdapter{}
