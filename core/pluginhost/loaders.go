package pluginhost

import (
	"context"
	"encoding/hex"
	"log/slog"

	"github.com/openautoglm/cloudphone/core/pluginhost/procrt"
	"github.com/openautoglm/cloudphone/core/pluginhost/wasmrt"
)

// Loaders returns the two standard loaders: wasm modules on rt, and process
// plugins started with popts (its SHA256 and OnStateChange are set per file
// by the host: the pin is the staged file's hash).
func Loaders(rt *wasmrt.Runtime, popts procrt.Options) map[string]LoadFunc {
	return map[string]LoadFunc{
		TransportWasm: func(ctx context.Context, f *File, _ func(string, error)) (Instance, error) {
			var sum [32]byte
			if b, err := hex.DecodeString(f.SHA256); err == nil && len(b) == len(sum) {
				copy(sum[:], b)
				return rt.LoadHashed(ctx, fileBase(f.Path), f.Wasm, sum)
			}
			return rt.LoadBytes(ctx, fileBase(f.Path), f.Wasm)
		},
		TransportProcess: func(ctx context.Context, f *File, notify func(string, error)) (Instance, error) {
			o := popts
			// The staged copy is the host's own, hashed as it was written.
			o.SHA256, o.Hashed = f.SHA256, true
			if o.Logger == nil {
				o.Logger = slog.Default()
			}
			o.Logger = o.Logger.With("plugin_file", fileBase(f.Path))
			o.OnStateChange = func(state string, err error) {
				switch state {
				case procrt.StateCrashed:
					notify(StateCrashed, err)
				case procrt.StateReady:
					notify(StateActive, nil)
				}
			}
			return procrt.Load(ctx, f.Staged, o)
		},
	}
}
