// Command wrongproto is a plugin built for another contract major version:
// its go-plugin handshake says protocol version 2. The host must refuse it
// at the handshake, quickly and with a clear reason.
package main

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type describer struct {
	cpv1.UnimplementedPluginServer
}

func (describer) Describe(context.Context, *cpv1.DescribeRequest) (*cpv1.PluginInfo, error) {
	return &cpv1.PluginInfo{Name: "planner-v2", Kind: cpv1.PluginKind_PLUGIN_KIND_PLANNER, ContractMajor: 2}, nil
}

type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	cpv1.RegisterPluginServer(s, describer{})
	return nil
}

func (grpcPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("server only")
}

func main() {
	hs := plugin.Handshake
	hs.ProtocolVersion = 2
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         goplugin.PluginSet{plugin.PluginName: grpcPlugin{}},
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
