// Command cloudphone is the one binary of cloudphone: serve, plugins, and
// (as later work lands) run, sim, devices and bench. Run `cloudphone --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// globals are flags every command shares.
type globals struct {
	configFile string
	logFormat  string
	level      slog.LevelVar
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "cloudphone",
		Short: "Run fleets of Android cloud phones driven by AI agents",
		Long: `cloudphone runs natural-language tasks on Android phones (simulated, physical
over adb, redroid containers, KVM VMs), with planners, models and device
backends as hot-swappable plugins.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "config file (YAML); see configs/cloudphone.yaml")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.AddCommand(newServeCmd(g), newPluginsCmd(g), newRunCmd(g), newSimCmd(g), newBenchCmd(g), newDevicesCmd(g), newTokenCmd(g), newClusterCmd(g))
	return root
}

// logger builds the stderr logger whose level follows g.level.
func (g *globals) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: &g.level}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
