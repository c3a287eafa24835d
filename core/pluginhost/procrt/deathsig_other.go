//go:build !linux

package procrt

import "os/exec"

// setDeathSignal does nothing outside Linux; there the plugin SDK's parent
// watch ends a plugin whose host died.
func setDeathSignal(*exec.Cmd) {}
