package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// Labels on every container this plugin starts. A restarted plugin finds
// its containers by labelManaged and labelInstance.
const (
	labelManaged   = "io.cloudphone.managed"
	labelInstance  = "io.cloudphone.instance"
	labelDevice    = "io.cloudphone.device"
	labelADBPort   = "io.cloudphone.adb-port"
	labelWidth     = "io.cloudphone.width"
	labelHeight    = "io.cloudphone.height"
	labelDPI       = "io.cloudphone.dpi"
	labelUserPfx   = "io.cloudphone.label."
	pingTimeout    = 3 * time.Second
	emulatorPortLo = 5555 // the adb server scans 5555–5585 for emulators
	emulatorPortHi = 5585
)

// errUnreachable marks errors that mean the engine did not answer.
var errUnreachable = errors.New("docker engine unreachable")

// engine is a Docker Engine API client that connects lazily and
// negotiates the API version.
//
// Version negotiation: the client asks /_ping for the engine's API
// version and downgrades to it (podman 4.3 serves 1.41). A client refuses
// an engine below its own minimum (this one: 1.40; recent Docker CLIs:
// 1.44); then the version the engine reported is pinned with
// client.WithAPIVersion and the client is built again. The api_version
// setting pins a version from the start.
type engine struct {
	endpoint string
	pin      string
	log      *slog.Logger

	mu  sync.Mutex
	cli *client.Client
}

func newEngine(endpoint, pin string, log *slog.Logger) *engine {
	return &engine{endpoint: endpoint, pin: pin, log: log}
}

// client returns a connected client, connecting first if needed. Its
// errors wrap errUnreachable when the engine did not answer.
func (e *engine) client(ctx context.Context) (*client.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cli != nil {
		return e.cli, nil
	}
	cli, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	e.cli = cli
	return cli, nil
}

func (e *engine) connect(ctx context.Context) (*client.Client, error) {
	opts := []client.Opt{client.WithHost(e.endpoint)}
	if e.pin != "" {
		opts = append(opts, client.WithAPIVersion(e.pin))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", e.endpoint, err)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ping, err := cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: e.pin == ""})
	if err == nil {
		e.log.Info("device-docker: docker engine connected", "endpoint", e.endpoint, "api_version", cli.ClientVersion())
		return cli, nil
	}
	_ = cli.Close()
	if ping.APIVersion == "" || !cerrdefs.IsInvalidArgument(err) {
		return nil, fmt.Errorf("%w at %s: %w", errUnreachable, e.endpoint, err)
	}
	// The engine answered with a version the client will not negotiate
	// down to: pin it.
	e.log.Warn("device-docker: engine API version is below the client's minimum; pinning it",
		"endpoint", e.endpoint, "engine_api_version", ping.APIVersion, "client_min", client.MinAPIVersion, "err", err)
	cli, err = client.New(client.WithHost(e.endpoint), client.WithAPIVersion(ping.APIVersion))
	if err != nil {
		return nil, fmt.Errorf("docker client for %s pinned to API %s: %w", e.endpoint, ping.APIVersion, err)
	}
	if _, err := cli.Ping(pctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("%w at %s: %w", errUnreachable, e.endpoint, err)
	}
	return cli, nil
}

// wrap marks connection failures as errUnreachable.
func (e *engine) wrap(what string, err error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("%w at %s: %s: %w", errUnreachable, e.endpoint, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Close closes the client.
func (e *engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cli != nil {
		_ = e.cli.Close()
		e.cli = nil
	}
}

// createSpec is one container to create.
type createSpec struct {
	name       string
	image      string
	cmd        []string
	labels     map[string]string
	adbPort    int
	memoryMiB  int
	cpus       float64
	privileged bool
	devices    []string
	pull       bool
}

// run creates and starts a container, pulling its image first if the
// engine lacks it and pulling is allowed, and returns its ID.
func (e *engine) run(ctx context.Context, cs createSpec) (string, error) {
	cli, err := e.client(ctx)
	if err != nil {
		return "", err
	}
	port, ok := network.PortFrom(uint16(cs.adbPort), network.TCP)
	if !ok {
		return "", fmt.Errorf("adb port %d", cs.adbPort)
	}
	hc := &container.HostConfig{
		// The engine picks a free host port; only 127.0.0.1 listens.
		PortBindings: network.PortMap{port: {{HostIP: netip.AddrFrom4([4]byte{127, 0, 0, 1})}}},
		Privileged:   cs.privileged,
		Resources: container.Resources{
			Memory:   int64(cs.memoryMiB) << 20,
			NanoCPUs: int64(cs.cpus * 1e9),
		},
	}
	for _, d := range cs.devices {
		hc.Devices = append(hc.Devices, container.DeviceMapping{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"})
	}
	opts := client.ContainerCreateOptions{
		Name: cs.name,
		Config: &container.Config{
			Image: cs.image, Cmd: cs.cmd, Labels: cs.labels,
			ExposedPorts: network.PortSet{port: {}},
		},
		HostConfig: hc,
	}
	res, err := cli.ContainerCreate(ctx, opts)
	if cerrdefs.IsNotFound(err) && cs.pull {
		e.log.Info("device-docker: pulling image", "image", cs.image)
		if perr := e.pull(ctx, cli, cs.image); perr != nil {
			return "", fmt.Errorf("create container %s: %w; pull: %w", cs.name, err, perr)
		}
		res, err = cli.ContainerCreate(ctx, opts)
	}
	if err != nil {
		return "", e.wrap("create container "+cs.name, err)
	}
	for _, w := range res.Warnings {
		e.log.Warn("device-docker: engine warning", "container", cs.name, "warning", w)
	}
	if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		e.remove(context.WithoutCancel(ctx), res.ID)
		return "", e.wrap("start container "+cs.name, err)
	}
	return res.ID, nil
}

func (e *engine) pull(ctx context.Context, cli *client.Client, ref string) error {
	r, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	return r.Wait(ctx)
}

// hostPort returns the host port the engine published the container's
// adbPort on, waiting briefly for it to appear.
func (e *engine) hostPort(ctx context.Context, id string, adbPort int) (int, error) {
	for {
		st, port, err := e.inspect(ctx, id, adbPort)
		if err != nil {
			return 0, err
		}
		if port > 0 {
			return port, nil
		}
		if st != container.StateRunning && st != container.StateCreated && st != container.StateRestarting {
			return 0, fmt.Errorf("container %.12s is %s", id, st)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("container %.12s: no published adb port: %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// inspect returns a container's state and the host port of adbPort (0:
// not published).
func (e *engine) inspect(ctx context.Context, id string, adbPort int) (container.ContainerState, int, error) {
	cli, err := e.client(ctx)
	if err != nil {
		return "", 0, err
	}
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", 0, e.wrap("inspect container "+shortID(id), err)
	}
	c := res.Container
	var st container.ContainerState
	if c.State != nil {
		st = c.State.Status
	}
	if c.NetworkSettings == nil {
		return st, 0, nil
	}
	port, _ := network.PortFrom(uint16(adbPort), network.TCP)
	for _, b := range c.NetworkSettings.Ports[port] {
		if n, err := strconv.Atoi(b.HostPort); err == nil && n > 0 {
			return st, n, nil
		}
	}
	return st, 0, nil
}

// managed lists every container this plugin instance started, running
// or not.
func (e *engine) managed(ctx context.Context, instance string) ([]container.Summary, error) {
	cli, err := e.client(ctx)
	if err != nil {
		return nil, err
	}
	f := client.Filters{}.Add("label", labelManaged+"=true", labelInstance+"="+instance)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, e.wrap("list containers", err)
	}
	return res.Items, nil
}

// stopRemove stops a container (a grace period for Android to shut down)
// and removes it; a container that is already gone is not an error.
func (e *engine) stopRemove(ctx context.Context, id string, grace time.Duration) error {
	cli, err := e.client(ctx)
	if err != nil {
		return err
	}
	secs := int(grace / time.Second)
	if _, err := cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &secs}); err != nil && !cerrdefs.IsNotFound(err) {
		e.log.Warn("device-docker: stop failed; removing by force", "container", shortID(id), "err", err)
	}
	if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return e.wrap("remove container "+shortID(id), err)
	}
	return nil
}

// remove removes a container by force, logging failures.
func (e *engine) remove(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cli, err := e.client(ctx)
	if err != nil {
		e.log.Warn("device-docker: remove container", "container", shortID(id), "err", err)
		return
	}
	if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		e.log.Warn("device-docker: remove container", "container", shortID(id), "err", err)
	}
}

// logs returns the tail of a container's output, for error messages.
func (e *engine) logs(ctx context.Context, id string) string {
	cli, err := e.client(ctx)
	if err != nil {
		return ""
	}
	r, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		return ""
	}
	defer func() { _ = r.Close() }()
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	return string(b)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// inEmulatorRange reports whether a host port is one the adb server
// scans for emulators.
func inEmulatorRange(port int) bool { return port >= emulatorPortLo && port <= emulatorPortHi }
