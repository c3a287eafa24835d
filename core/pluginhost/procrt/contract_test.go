package procrt_test

import (
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
)

// A Process is an Instance of every kind.
var (
	_ pluginhost.Instance = (*procrt.Process)(nil)
	_ pluginhost.Planner  = (*procrt.Process)(nil)
	_ pluginhost.Model    = (*procrt.Process)(nil)
	_ pluginhost.Device   = (*procrt.Process)(nil)
)
