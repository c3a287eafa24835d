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
		Short: "Run a node: plugins, device pool, scheduler, task service, HTTP API",
		Long: `serve loads every plugin in the plugin directory, watches it (a changed file
is validated and hot-swapped with no failed calls; a bad one is rejected
while the old version keeps serving), opens the task store in the data
directory (tasks left queued by a previous run are queued again, tasks it
left running are marked interrupted), and serves the HTTP API (docs/api.md):
POST /api/v1/run, GET /api/v1/tasks/{id}/events (SSE), devices, plugins,
slices, /healthz, /readyz, /metrics. Every API route but the health probes
needs a token (cloudphone token create). On SIGINT/SIGTERM it stops
gracefully: running tasks end as interrupted (reason server_stopped).

It also joins a cluster (docs/cluster.md): an embedded NATS JetStream
server under the data directory by default, where tasks still run
in-process; with cluster.nats_url set, submitted tasks go through the
cluster's task queue and run on any node with a phone that fits.`,
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
		Logger: log, Level: &g.level, Server: true})
	if err != nil {
		return err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Start(ctx, true); err != nil {
		return err
	}
	cfg := n.Config()
	log.Info("cloudphone serving", "api", n.URL(), "plugins_dir", cfg.Plugins.Dir,
		"data_dir", cfg.Data.Dir, "plugins", len(n.Host.Status()), "auth", !cfg.API.Auth.Disabled)
	fmt.Fprintf(os.Stderr, "serving on %s (Ctrl-C to stop)\n", n.URL())
	return n.Serve(ctx)
}
