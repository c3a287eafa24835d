package main

import (
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	s := newSim(plugin.Logger())
	defer s.Close()
	plugin.ServeDevice(&cpv1.PluginInfo{
		Name:         "device-sim",
		Version:      version,
		Capabilities: []string{"provision", "adb", "simulated"},
		Description:  "Simulated Android phones, each also reachable by adb on its own port (127.0.0.1:6100, 6101, …)",
	}, s)
}
