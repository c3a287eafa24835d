package main

import (
	"github.com/openautoglm/cloudphone/sdk/plugin"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	plugin.ServeDevice(&cpv1.PluginInfo{
		Name:         "device-kvm",
		Version:      version,
		Capabilities: []string{"provision", "adb", "snapshot"},
		Description:  "Android-x86 VMs on QEMU (KVM, or TCG without /dev/kvm), adb forwarded to 127.0.0.1",
	}, newBackend(plugin.Logger()))
}
