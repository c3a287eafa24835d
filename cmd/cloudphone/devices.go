package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/config"
	"github.com/openautoglm/cloudphone/core/node"
	"github.com/openautoglm/cloudphone/core/pool"
)

func newDevicesCmd(g *globals) *cobra.Command {
	var asJSON, backends bool
	var server, token string
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List the device pool: id, backend, labels, state, lease, health",
		Long: `devices lists the phones in the device pool of a running server (--server, or
the one at the configured api.listen). When no server answers and --server
was not given, it starts a node in-process (plugins, pool), reads every
enabled backend once and lists what it finds.

Devices are "<backend>/<id>". state is free, leased, drained (unhealthy: no
new leases), booting, offline, missing (leased, no longer listed) or
releasing. Below the table, each enabled backend (devices.backends) shows
its plugin state and its own status: a backend whose engine (Docker, QEMU,
an adb server) is unreachable has an active plugin and says so there.

--json prints the devices as a JSON array (GET /api/v1/devices);
--json --backends prints the backends instead (GET /api/v1/backends).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			devs, bks, err := deviceRows(cmd.Context(), g, cmd, server, tokenOrEnv(token))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				if backends {
					return enc.Encode(bks)
				}
				return enc.Encode(devs)
			}
			printDevices(os.Stdout, devs, bks)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array, one object per device")
	cmd.Flags().BoolVar(&backends, "backends", false, "with --json: print the backends instead of the devices")
	cmd.Flags().StringVar(&server, "server", "", "server URL, e.g. http://127.0.0.1:8080")
	cmd.Flags().StringVar(&token, "token", "", "bearer token for the server (default $CLOUDPHONE_TOKEN)")
	addNodeFlags(cmd)
	return cmd
}

func deviceRows(ctx context.Context, g *globals, cmd *cobra.Command, server, token string) ([]pool.DeviceStatus, []pool.BackendStatus, error) {
	explicit := server != ""
	if !explicit {
		cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys})
		if err != nil {
			return nil, nil, err
		}
		server = "http://" + cfg.API.Listen
	}
	var devs []pool.DeviceStatus
	err := fetchJSON(ctx, server, token, "/api/v1/devices", &devs)
	if err == nil {
		var bks []pool.BackendStatus
		err = fetchJSON(ctx, server, token, "/api/v1/backends", &bks)
		return devs, bks, err
	}
	if explicit || !isConnRefused(err) {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "no server at %s; starting the device backends here\n", server)
	return localDevices(ctx, g, cmd)
}

// localDevices starts a node (plugins and pool, no API), which reads every
// enabled backend once, and lists the pool.
func localDevices(ctx context.Context, g *globals, cmd *cobra.Command) ([]pool.DeviceStatus, []pool.BackendStatus, error) {
	g.level.Set(100) // quiet: the table is the output
	n, err := node.New(ctx, node.Options{ConfigFile: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys, Logger: g.logger()})
	if err != nil {
		return nil, nil, err
	}
	defer n.Close(context.WithoutCancel(ctx))
	if err := n.Start(ctx, false); err != nil {
		return nil, nil, err
	}
	n.Pool.Heartbeat(ctx) // one round, so health is known
	return n.Pool.Devices(), n.Pool.Backends(), nil
}

func printDevices(w io.Writer, devs []pool.DeviceStatus, bks []pool.BackendStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(devs) == 0 {
		fmt.Fprintln(w, "no devices")
	} else {
		fmt.Fprintln(tw, "ID\tSTATE\tHEALTH\tLEASE\tLABELS")
		for _, d := range devs {
			lease := "-"
			if d.Lease != nil {
				lease = fmt.Sprintf("%s (%s, %s)", d.Lease.ID, d.Lease.Owner, d.Lease.Tenant)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.State, d.Health.Status, lease, labelText(d.Labels))
		}
		tw.Flush()
	}
	if len(bks) == 0 {
		fmt.Fprintln(w, "\nno device backend is enabled (config devices.backends)")
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tPLUGIN\tDEVICES\tFREE\tLEASED\tUNHEALTHY\tSIZE\tSTATUS")
	for _, b := range bks {
		size := "fixed"
		if b.Max > 0 {
			size = fmt.Sprintf("%d–%d", b.Min, b.Max)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", b.Name, b.Plugin, b.Devices, b.Free, b.Leased, b.Unhealthy, size, b.Status)
	}
	tw.Flush()
}

// labelText renders labels without the backend (a column of its own in
// the id), sorted.
func labelText(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "backend" {
			parts = append(parts, k+"="+labels[k])
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
