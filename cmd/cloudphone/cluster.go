package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/config"
)

func newClusterCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect the cluster of cloudphone nodes (docs/cluster.md)",
		Args:  cobra.NoArgs,
	}
	var asJSON bool
	var server, token string
	status := &cobra.Command{
		Use:   "status",
		Short: "Live nodes (id, devices, state), task queue depth and leader",
		Long: `status asks a running server (--server, or the one at the configured
api.listen) for the cluster's status: every live node with its phones and
state (serving: it takes tasks from the queue; idle: it does not), the
tasks not yet completed (queue_depth) and the JetStream leader.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := serverURL(g, cmd, server)
			if err != nil {
				return err
			}
			var st cluster.Status
			if err := fetchJSON(cmd.Context(), base, tokenOrEnv(token), "/api/v1/cluster", &st); err != nil {
				return err
			}
			if st.Nodes == nil {
				st.Nodes = []cluster.NodeStatus{}
			}
			if asJSON {
				return printClusterJSON(os.Stdout, st)
			}
			printClusterStatus(os.Stdout, st)
			return nil
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print a JSON object: nodes (id, devices, state), queue_depth, leader")
	status.Flags().StringVar(&server, "server", "", "server URL, e.g. http://127.0.0.1:8080 (default: config api.listen)")
	status.Flags().StringVar(&token, "token", "", "bearer token for the server (default $CLOUDPHONE_TOKEN)")
	addNodeFlags(status)
	cmd.AddCommand(status)
	return cmd
}

// serverURL is --server, or the configured api.listen.
func serverURL(g *globals, cmd *cobra.Command, server string) (string, error) {
	if server != "" {
		return server, nil
	}
	cfg, err := config.Load(config.LoadOptions{File: g.configFile, Flags: cmd.Flags(), FlagKeys: flagKeys})
	if err != nil {
		return "", err
	}
	return "http://" + cfg.API.Listen, nil
}

// printClusterJSON prints st as cluster.Status encodes it, with leader
// present even while none is elected ("").
func printClusterJSON(w io.Writer, st cluster.Status) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if _, ok := m["leader"]; !ok {
		m["leader"] = ""
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

func printClusterStatus(w io.Writer, st cluster.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tDEVICES\tSTATE\tRUNNING\tCAPACITY\tHEARTBEAT")
	for _, n := range st.Nodes {
		hb := "-"
		if !n.LastHeartbeat.IsZero() {
			hb = time.Since(n.LastHeartbeat).Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\n", n.ID, n.Devices, n.State, n.Running, n.Capacity, hb)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nqueue depth %d (waiting %d, running %d), leader %s, replicas %d\n",
		st.QueueDepth, st.Waiting, st.Running, dash(st.Leader), st.Replicas)
}

func newPluginsPushCmd(g *globals) *cobra.Command {
	var server, token, name string
	cmd := &cobra.Command{
		Use:   "push FILE",
		Short: "Roll a plugin out to a server, or to every node of its cluster",
		Long: `push uploads FILE to a running server (admin token).

A server in queue mode (cluster.nats_url or cluster.listen set) stores it in
the cluster's object store with its sha256; every node fetches it, verifies
the hash (and its plugins.pin, if any), prepares it under a hidden name,
renames it into its plugin directory and hot-swaps it.

Any other server installs it in its own plugin directory the same way and
answers once the new version serves; a file it refuses (not a plugin, an
invalid module, another pinned sha256) is reported with the reason and
changes nothing. A wasm module swaps in tens of milliseconds this way,
against a full compile (over a second for a Go guest) when a never-seen
module is copied over its file by hand.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := serverURL(g, cmd, server)
			if err != nil {
				return err
			}
			obj, err := pushPlugin(cmd.Context(), base, tokenOrEnv(token), args[0], name)
			if err != nil {
				return err
			}
			fmt.Printf("pushed %s (sha256 %s, %d bytes)\n", obj.Name, obj.SHA256, obj.Size)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "server URL, e.g. http://127.0.0.1:8080 (default: config api.listen)")
	cmd.Flags().StringVar(&token, "token", "", "admin bearer token for the server (default $CLOUDPHONE_TOKEN)")
	cmd.Flags().StringVar(&name, "name", "", "file name in the plugin directory (default: FILE's base name)")
	addNodeFlags(cmd)
	return cmd
}

// pushPlugin posts the file to POST /api/v1/plugins with its sha256, which
// the server checks before storing it.
func pushPlugin(ctx context.Context, base, token, path, name string) (cluster.PluginObject, error) {
	var obj cluster.PluginObject
	b, err := os.ReadFile(path)
	if err != nil {
		return obj, fmt.Errorf("plugin file: %w", err)
	}
	if name == "" {
		name = filepath.Base(path)
	}
	sum := sha256.Sum256(b)
	q := url.Values{"name": {name}, "sha256": {hex.EncodeToString(sum[:])}}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o111 != 0 {
		q.Set("executable", "true")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	c := &remote{base: strings.TrimRight(base, "/"), token: token, hc: http.DefaultClient}
	req, err := c.request(ctx, http.MethodPost, "/api/v1/plugins?"+q.Encode(), nil)
	if err != nil {
		return obj, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return obj, fmt.Errorf("server %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return obj, fmt.Errorf("push %s: %w", name, err)
	}
	if resp.StatusCode/100 != 2 {
		return obj, serverError(http.MethodPost, "/api/v1/plugins", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		return obj, fmt.Errorf("push %s: bad response: %w", name, err)
	}
	return obj, nil
}
