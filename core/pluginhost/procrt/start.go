package procrt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	sdkplugin "github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// generation is one started plugin process and its connection. A Process
// replaces its generation when the process crashes.
type generation struct {
	client  *goplugin.Client
	plugin  cpv1.PluginClient
	planner cpv1.PlannerClient
	model   cpv1.ModelClient
	device  cpv1.DeviceClient
	pid     int
	info    *cpv1.PluginInfo
	sha     string // hex sha256 of the file this process was started from
	started time.Time

	deadOnce sync.Once
	dead     chan struct{} // closed once the process is known to be gone
}

func (g *generation) markDead() { g.deadOnce.Do(func() { close(g.dead) }) }

// killGrace bounds go-plugin's graceful shutdown of one process; after it
// the process gets SIGKILL.
const killGrace = 3 * time.Second

// kill ends the process: a graceful shutdown request, then SIGKILL (after
// two seconds in go-plugin's Kill, or after killGrace if the shutdown
// request itself hangs, as it does on a stopped or wedged process). It
// returns once the process has exited.
func (g *generation) kill() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.client.Kill()
	}()
	t := time.NewTimer(killGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		killPid(g.pid)
		<-done
	}
	g.markDead()
}

// deathSignal is switched off only by the test that checks the SDK's own
// parent watch.
var deathSignal = true

// namePattern is what a plugin name must look like.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// start starts one process from the file at path and validates it: pin
// (the file is hashed unless trustSum, see Options.Hashed), exec,
// handshake, Describe, contract and name checks.
func start(ctx context.Context, path string, opts Options, log *slog.Logger, trustSum bool) (g *generation, err error) {
	var sum string
	switch {
	case trustSum && opts.SHA256 != "":
		sum = strings.ToLower(strings.TrimSpace(opts.SHA256)) // hashed by the caller (Options.Hashed)
	case opts.SHA256 != "":
		sum, err = checkPin(path, opts.SHA256)
	default:
		sum, err = fileSHA256(path)
	}
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		return nil, fmt.Errorf("start: %w", context.Cause(ctxOrDeadline(ctx)))
	}

	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), sdkplugin.EnvLogLevel+"="+levelName(log))
	if deathSignal {
		setDeathSignal(cmd)
	}
	tail := &tailBuffer{}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdkplugin.Handshake,
		Plugins:          goplugin.PluginSet{sdkplugin.PluginName: connPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           newHclog(log),
		StartTimeout:     timeout,
		Stderr:           tail,
		SyncStdout:       &lineLogger{log: log, stream: "stdout"},
		SyncStderr:       &lineLogger{log: log, stream: "stderr"},
	})
	defer func() {
		if err != nil {
			client.Kill()
		}
	}()
	began := time.Now()
	rpc, err := client.Client()
	if err != nil {
		return nil, startError(err, filepath.Base(path), tail, timeout)
	}
	raw, err := rpc.Dispense(sdkplugin.PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense %q: %w", sdkplugin.PluginName, err)
	}
	conn, ok := raw.(*grpc.ClientConn)
	if !ok {
		return nil, fmt.Errorf("dispense %q: unexpected client type %T", sdkplugin.PluginName, raw)
	}
	g = &generation{
		client:  client,
		plugin:  cpv1.NewPluginClient(conn),
		planner: cpv1.NewPlannerClient(conn),
		model:   cpv1.NewModelClient(conn),
		device:  cpv1.NewDeviceClient(conn),
		pid:     cmd.Process.Pid,
		sha:     sum,
		started: began,
		dead:    make(chan struct{}),
	}

	dctx, cancel := context.WithTimeout(ctx, max(timeout-time.Since(began), 100*time.Millisecond))
	defer cancel()
	info, err := g.plugin.Describe(dctx, &cpv1.DescribeRequest{
		HostContractMajor: cpv1.ContractMajor,
		HostContractMinor: cpv1.ContractMinor,
	})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", wrapRPC(dctx, err))
	}
	if err := validateInfo(info); err != nil {
		return nil, err
	}
	g.info = info
	return g, nil
}

// ctxOrDeadline returns ctx if it is done, or an expired context otherwise
// (the deadline is too close to start anything).
func ctxOrDeadline(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	c, cancel := context.WithDeadline(ctx, time.Now())
	cancel()
	return c
}

// validateInfo checks what a plugin says about itself.
func validateInfo(info *cpv1.PluginInfo) error {
	if got := info.GetContractMajor(); got != cpv1.ContractMajor {
		return fmt.Errorf("%w: plugin %q was built for contract v%d, this host speaks v%d",
			ErrIncompatible, info.GetName(), got, cpv1.ContractMajor)
	}
	if !namePattern.MatchString(info.GetName()) {
		return fmt.Errorf("%w: name %q does not match [a-z0-9][a-z0-9._-]*", ErrInvalidInfo, info.GetName())
	}
	switch info.GetKind() {
	case cpv1.PluginKind_PLUGIN_KIND_PLANNER, cpv1.PluginKind_PLUGIN_KIND_MODEL, cpv1.PluginKind_PLUGIN_KIND_DEVICE:
	default:
		return fmt.Errorf("%w: plugin %q has kind %v", ErrInvalidInfo, info.GetName(), info.GetKind())
	}
	return nil
}

var (
	reUnrecognized = regexp.MustCompile(`Unrecognized remote plugin message: ([^\n]*)`)
	reAPIVersion   = regexp.MustCompile(`incompatible API version with plugin\. Plugin version: (\d+)`)
)

// startError turns go-plugin's start errors into messages a person can act
// on, with the last lines the plugin wrote to stderr.
func startError(err error, file string, tail *tailBuffer, timeout time.Duration) error {
	msg := err.Error()
	stderrTail := ""
	if s := tail.String(); s != "" {
		stderrTail = "; its stderr ends with:" + s
	}
	switch {
	case errors.Is(err, os.ErrPermission), errors.Is(err, exec.ErrNotFound),
		errors.Is(err, os.ErrNotExist), strings.Contains(msg, "exec format error"):
		return fmt.Errorf("cannot execute %s: %w", file, err)
	case reAPIVersion.MatchString(msg):
		v := reAPIVersion.FindStringSubmatch(msg)[1]
		return fmt.Errorf("%w: %s was built for plugin contract v%s, this host speaks v%d; rebuild it against a matching cloudphone SDK",
			ErrIncompatible, file, v, cpv1.ContractMajor)
	case strings.Contains(msg, "incompatible core API version"), strings.Contains(msg, "unsupported plugin protocol"):
		return fmt.Errorf("%w: %s speaks another go-plugin protocol (%s); rebuild it with the cloudphone SDK",
			ErrIncompatible, file, firstLine(msg))
	case reUnrecognized.MatchString(msg):
		printed := strings.TrimSpace(reUnrecognized.FindStringSubmatch(msg)[1])
		if printed == "" {
			return fmt.Errorf("%w: %s exited without the plugin handshake%s", ErrNotPlugin, file, stderrTail)
		}
		return fmt.Errorf("%w: %s printed %q instead of the plugin handshake (a plugin must not write to stdout before serving)%s",
			ErrNotPlugin, file, truncate(printed, 200), stderrTail)
	case strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Errorf("%w: %s exited before completing the plugin handshake%s", ErrNotPlugin, file, stderrTail)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%w: %s did not complete the plugin handshake within %v%s", ErrNotPlugin, file, timeout, stderrTail)
	}
	return fmt.Errorf("start %s: %w%s", file, err, stderrTail)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fileSHA256 returns the hex sha256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkPin hashes the file and compares it with the pinned hex digest.
func checkPin(path, pin string) (string, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(sum, strings.TrimSpace(pin)) {
		return sum, fmt.Errorf("%w: file has %s, config pins %s", ErrSHA256Mismatch, sum, pin)
	}
	return sum, nil
}

// levelName is the level the host logs at, as the plugin SDK reads it.
func levelName(log *slog.Logger) string {
	ctx := context.Background()
	switch {
	case log.Enabled(ctx, slog.LevelDebug):
		return "debug"
	case log.Enabled(ctx, slog.LevelInfo):
		return "info"
	case log.Enabled(ctx, slog.LevelWarn):
		return "warn"
	default:
		return "error"
	}
}

// connPlugin is the host side of the "cloudphone" go-plugin plugin: it hands
// out the raw gRPC connection, on which every service is reached.
type connPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (connPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("procrt: the host does not serve plugins")
}

func (connPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

var _ goplugin.GRPCPlugin = connPlugin{}
