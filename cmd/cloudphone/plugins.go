package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/pluginhost"
)

func newPluginsCmd(g *globals) *cobra.Command {
	var asJSON bool
	var server, token string
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List plugins: name, kind, version, transport, state, file",
		Long: `plugins lists the plugins of a running server (--server, or the one at the
configured api.listen). When no server answers and --server was not given,
it loads the plugin directory itself and reports what it finds.

Each plugin name has one row for the version serving it; a file that was
rejected has a row of its own with state "rejected" and the reason.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := pluginRows(cmd.Context(), g, cmd, server, tokenOrEnv(token))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			printPlugins(os.Stdout, rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per plugin")
	cmd.Flags().StringVar(&server, "server", "", "server URL, e.g. http://127.0.0.1:8080")
	cmd.Flags().StringVar(&token, "token", "", "bearer token for the server (default $CLOUDPHONE_TOKEN)")
	addNodeFlags(cmd)
	cmd.AddCommand(newPluginsPushCmd(g))
	return cmd
}

func pluginRows(ctx context.Context, g *globals, cmd *cobra.Command, server, token string) ([]pluginhost.Status, error) {
	explicit := server != ""
	if !explicit {
		cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys})
		if err != nil {
			return nil, err
		}
		server = "http://" + cfg.API.Listen
	}
	var rows []pluginhost.Status
	err := fetchJSON(ctx, server, token, "/api/v1/plugins", &rows)
	if err == nil || explicit || !isConnRefused(err) {
		return rows, err
	}
	fmt.Fprintf(os.Stderr, "no server at %s; loading the plugin directory directly\n", server)
	return localPlugins(ctx, g, cmd)
}

func isConnRefused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

func localPlugins(ctx context.Context, g *globals, cmd *cobra.Command) ([]pluginhost.Status, error) {
	g.level.Set(100) // quiet: the table is the output
	n, err := node.New(ctx, node.Options{ConfigFile: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys, Logger: g.logger()})
	if err != nil {
		return nil, err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Host.LoadDir(ctx); err != nil {
		// Rejections are rows of the listing.
		_ = err
	}
	return n.Host.Status(), nil
}

func printPlugins(w io.Writer, rows []pluginhost.Status) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "no plugins")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tTRANSPORT\tSTATE\tLOADED\tFILE")
	for _, r := range rows {
		loaded := "-"
		if r.LoadedAt != nil {
			loaded = r.LoadedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, dash(r.Kind), dash(r.Version), r.Transport,
			r.State, loaded, filepath.Base(r.File))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "\n%s (%s): %s\n", r.Name, filepath.Base(r.File), r.Error)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
