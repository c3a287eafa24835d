package main

import (
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	d := newDocker(plugin.Logger())
	defer d.Close()
	plugin.ServeDevice(&cpv1.PluginInfo{
		Name:         "device-docker",
		Version:      version,
		Capabilities: []string{"provision", "adb", "docker"},
		Description:  "Android containers (redroid) on a Docker Engine API (Docker, podman), each reached by adb on 127.0.0.1",
	}, d)
}
