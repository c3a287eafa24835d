package main

import (
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	b := newBackend(plugin.Logger())
	defer b.Close()
	plugin.ServeDevice(&cpv1.PluginInfo{
		Name:         "device-adb",
		Version:      version,
		Capabilities: []string{"adb", "physical"},
		Description:  "Android phones reachable by adb: discovered from an adb server (host:track-devices) and connected directly at configured network addresses",
	}, b)
}
