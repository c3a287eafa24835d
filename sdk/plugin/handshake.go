package plugin

import (
	goplugin "github.com/hashicorp/go-plugin"

	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// PluginName is the one go-plugin plugin name a cloudphone process serves.
// Its gRPC server carries the Plugin service and the service of the kind.
const PluginName = "cloudphone"

// The magic cookie the host sets in a plugin's environment. It is not a
// security measure: it tells a plugin that a host, not a person, started it.
const (
	MagicCookieKey   = "CLOUDPHONE_PLUGIN"
	MagicCookieValue = "3f6d0c7e-cloudphone-plugin-v1"
)

// EnvLogLevel is the environment variable the host sets to the level it logs
// at ("debug", "info", "warn" or "error"); Logger drops records below it.
// Unset means "info".
const EnvLogLevel = "CLOUDPHONE_PLUGIN_LOG_LEVEL"

// Handshake is the go-plugin handshake shared by host and plugins. Its
// ProtocolVersion is the contract major version, so a host refuses a plugin
// built for another major version before any call is made.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  uint(cpv1.ContractMajor),
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}
