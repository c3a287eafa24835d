package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// parentPoll is how often a serving plugin checks that the host still runs.
const parentPoll = 200 * time.Millisecond

// MaxMessageSize is the largest request a plugin accepts (64 MiB): enough
// for full-resolution screenshots in observations and plan requests. gRPC's
// default of 4 MiB is not.
const MaxMessageSize = 64 << 20

// ServePlanner serves impl as a planner plugin described by info and returns
// when the host stops the plugin. The SDK sets info's kind and contract
// version. Call it from main, before anything is written to stdout.
func ServePlanner(info *cpv1.PluginInfo, impl Planner) {
	if impl == nil {
		fatal("ServePlanner: nil planner")
	}
	serve(newService(info, cpv1.PluginKind_PLUGIN_KIND_PLANNER, impl, func(s *grpc.Server) {
		cpv1.RegisterPlannerServer(s, &plannerServer{impl: impl})
	}))
}

// ServeModel serves impl as a model plugin; see ServePlanner.
func ServeModel(info *cpv1.PluginInfo, impl Model) {
	if impl == nil {
		fatal("ServeModel: nil model")
	}
	serve(newService(info, cpv1.PluginKind_PLUGIN_KIND_MODEL, impl, func(s *grpc.Server) {
		cpv1.RegisterModelServer(s, &modelServer{impl: impl, rings: newModelRings(impl)})
	}))
}

// ServeDevice serves impl as a device backend plugin; see ServePlanner.
func ServeDevice(info *cpv1.PluginInfo, impl Device) {
	if impl == nil {
		fatal("ServeDevice: nil device")
	}
	serve(newService(info, cpv1.PluginKind_PLUGIN_KIND_DEVICE, impl, func(s *grpc.Server) {
		cpv1.RegisterDeviceServer(s, &deviceServer{impl: impl})
	}))
}

// service is one plugin ready to be served: its completed description and
// the function that registers its gRPC services.
type service struct {
	info     *cpv1.PluginInfo
	register func(*grpc.Server)
}

func newService(info *cpv1.PluginInfo, kind cpv1.PluginKind, impl any, register func(*grpc.Server)) *service {
	if info == nil {
		info = &cpv1.PluginInfo{}
	}
	info = proto.CloneOf(info)
	info.Kind = kind
	info.ContractMajor = cpv1.ContractMajor
	info.ContractMinor = cpv1.ContractMinor
	ps := &pluginServer{info: info, impl: impl}
	return &service{info: info, register: func(s *grpc.Server) {
		cpv1.RegisterPluginServer(s, ps)
		register(s)
	}}
}

// serve runs the plugin in a process started by the host.
func serve(svc *service) {
	if os.Getenv(MagicCookieKey) != MagicCookieValue {
		fmt.Fprint(os.Stderr, directRunMessage(filepath.Base(os.Args[0]), svc.info))
		os.Exit(1)
	}
	go watchParent(context.Background(), os.Getppid(), parentPoll, func() {
		Logger().Warn("host process is gone; plugin exiting")
		os.Exit(0)
	})
	goplugin.Serve(svc.config(nil))
}

// config is the go-plugin configuration that serves svc; test, when set,
// serves in-process for tests.
func (svc *service) config(test *goplugin.ServeTestConfig) *goplugin.ServeConfig {
	return &goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &grpcPlugin{register: svc.register}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts,
				grpc.MaxRecvMsgSize(MaxMessageSize),
				grpc.ChainUnaryInterceptor(unaryInterceptor),
				grpc.ChainStreamInterceptor(streamInterceptor))
			return grpc.NewServer(opts...)
		},
		Logger: serverLogger(),
		Test:   test,
	}
}

// watchParent calls gone once the process's parent is no longer ppid: the
// host died and the plugin was reparented. A plugin whose parent was
// already init cannot tell, and is not watched.
func watchParent(ctx context.Context, ppid int, poll time.Duration, gone func()) {
	if ppid <= 1 {
		return
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != ppid {
				gone()
				return
			}
		}
	}
}

// directRunMessage is what a person who runs a plugin by hand reads.
func directRunMessage(prog string, info *cpv1.PluginInfo) string {
	what := kindName(info.GetKind()) + " plugin"
	if info.GetName() != "" {
		what = fmt.Sprintf("%s %q", what, info.GetName())
	}
	if info.GetVersion() != "" {
		what += " version " + info.GetVersion()
	}
	return fmt.Sprintf("%s is a cloudphone %s (contract v%d.%d).\n"+
		"It is not meant to be run by hand: the cloudphone host starts it.\n"+
		"To use it, copy it into the host's plugin directory (plugins.d by default);\n"+
		"the host loads it within seconds, and `cloudphone plugins` lists it.\n",
		prog, what, cpv1.ContractMajor, cpv1.ContractMinor)
}

func kindName(k cpv1.PluginKind) string {
	switch k {
	case cpv1.PluginKind_PLUGIN_KIND_PLANNER:
		return "planner"
	case cpv1.PluginKind_PLUGIN_KIND_MODEL:
		return "model"
	case cpv1.PluginKind_PLUGIN_KIND_DEVICE:
		return "device"
	default:
		return "unknown-kind"
	}
}

// fatal reports a programming error of the plugin's author and exits.
func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "cloudphone plugin: "+msg)
	os.Exit(1)
}

// grpcPlugin is the go-plugin plugin that registers a service's gRPC
// servers. It serves only; the host has its own client side.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	register func(*grpc.Server)
}

func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	p.register(s)
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the cloudphone plugin SDK serves plugins only; use core/pluginhost/procrt to load them")
}

var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)
