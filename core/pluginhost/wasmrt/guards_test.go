package wasmrt_test

import (
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
)

// Interface guards: a Module is what the registry expects of a wasm plugin.
var (
	_ pluginhost.Instance = (*wasmrt.Module)(nil)
	_ pluginhost.Planner  = (*wasmrt.Module)(nil)
	_ pluginhost.Model    = (*wasmrt.Module)(nil)
)
