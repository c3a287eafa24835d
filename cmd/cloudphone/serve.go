package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/node"
)

// flagKeys maps the flags of serve (and run) onto config keys.
var flagKeys = map[string]string{
	"listen":      "api.listen",
	"plugins-dir": "plugins.dir",
	"data-dir":    "data.dir",
}

func addNodeFlags(cmd *cobra.Command) {
	cmd.Flags().String("listen", "127.0.0.1:8080", "HTTP API address (config api.listen)")
	cmd.Flags().String("plugins-dir", "./plugins.d", "plugin directory (config plugins.dir)")
	cmd.Flags().String("data-dir", "./data", "data directory (config data.dir)")
}

func newServeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: plugin host, plugin directory watcher, HTTP API",
		Long: `serve loads every plugin in the plugin directory, watches it (a changed file
is validated and hot-swapped with no failed calls; a bad one is rejected
while the old version keeps serving), and serves the HTTP API:
GET /healthz and GET /api/v1/plugins.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), g, cmd)
		},
	}
	addNodeFlags(cmd)
	return cmd
}

func serve(ctx context.Context, g *globals, cmd *cobra.Command) error {
	log := g.logger()
	n, err := node.New(ctx, node.Options{ConfigFile: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys,
		Logger: log, Level: &g.level})
	if err != nil {
		return err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Start(ctx, true); err != nil {
		return err
	}
	cfg := n.Config()
	log.Info("cloudphone serving", "api", "http://"+n.Addr().String(), "plugins_dir", cfg.Plugins.Dir,
		"data_dir", cfg.Data.Dir, "plugins", len(n.Host.Status()))
	fmt.Fprintf(os.Stderr, "serving on http://%s (Ctrl-C to stop)\n", n.Addr())
	return n.Serve(ctx)
}
