package node

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/openautoglm/cloudphone/core/cluster"
)

// installPlugin serves POST /api/v1/plugins on a server that is not a
// cluster node: the uploaded file at path is installed in this node's
// plugin directory (pluginhost.Host.Install: prepared, renamed into place,
// loaded) and the answer comes once it serves.
func (n *Node) installPlugin(ctx context.Context, name, path string) (cluster.PluginObject, error) {
	st, err := os.Stat(path)
	if err != nil {
		return cluster.PluginObject{}, fmt.Errorf("install plugin %s: %w", name, err)
	}
	sum, err := n.Host.Install(ctx, name, path)
	if err != nil {
		return cluster.PluginObject{}, err
	}
	host, _ := os.Hostname()
	return cluster.PluginObject{Name: name, SHA256: sum, Size: uint64(st.Size()), PushedBy: host, Modified: time.Now().UTC()}, nil
}
