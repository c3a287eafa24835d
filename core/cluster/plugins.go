package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/openautoglm/cloudphone/core/pluginhost"
)

// Metadata keys of a pushed plugin object.
const (
	metaSHA256 = "sha256"
	metaMode   = "mode"
	metaNode   = "pushed-by"
)

// PluginObject is a plugin stored in the cluster's object store.
type PluginObject struct {
	Name     string    `json:"name"`
	SHA256   string    `json:"sha256"`
	Size     uint64    `json:"size"`
	PushedBy string    `json:"pushed_by"`
	Modified time.Time `json:"modified"`
}

// PluginSync reports one plugin landing in (or refused by) this node's
// plugin directory.
type PluginSync struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	// Path is where it was written ("" when refused or removed).
	Path    string `json:"path,omitempty"`
	Removed bool   `json:"removed,omitempty"`
	Err     error  `json:"-"`
}

// ErrPluginVerify is wrapped by a sync refused because the fetched bytes
// do not have the sha256 they were pushed with, or that the node pins.
var ErrPluginVerify = errors.New("plugin verification failed")

// PushPlugin stores the plugin file at path under name (default: the
// file's base name) with its sha256, for every node to fetch.
func (n *Node) PushPlugin(ctx context.Context, name, path string) (PluginObject, error) {
	if name == "" {
		name = filepath.Base(path)
	}
	if err := pluginhost.CheckFileName(name); err != nil {
		return PluginObject{}, fmt.Errorf("push plugin: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return PluginObject{}, fmt.Errorf("push plugin %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return PluginObject{}, fmt.Errorf("push plugin %s: %s is not a regular file", name, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return PluginObject{}, fmt.Errorf("push plugin %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	mode := os.FileMode(0o644)
	if st.Mode().Perm()&0o111 != 0 {
		mode = 0o755
	}
	meta := jetstream.ObjectMeta{Name: name, Metadata: map[string]string{
		metaSHA256: hexSum, metaMode: strconv.FormatUint(uint64(mode), 8), metaNode: n.opts.NodeID,
	}}
	info, err := n.plugins.Put(ctx, meta, bytes.NewReader(data))
	if err != nil {
		return PluginObject{}, fmt.Errorf("push plugin %s: %w", name, err)
	}
	return PluginObject{Name: name, SHA256: hexSum, Size: info.Size, PushedBy: n.opts.NodeID, Modified: info.ModTime}, nil
}

// Plugins lists the plugins stored in the cluster.
func (n *Node) Plugins(ctx context.Context) ([]PluginObject, error) {
	infos, err := n.plugins.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list plugins: %w", err)
	}
	out := make([]PluginObject, 0, len(infos))
	for _, i := range infos {
		out = append(out, PluginObject{Name: i.Name, SHA256: i.Metadata[metaSHA256], Size: i.Size,
			PushedBy: i.Metadata[metaNode], Modified: i.ModTime})
	}
	return out, nil
}

// RemovePlugin deletes a plugin from the cluster; every node removes the
// file it synced.
func (n *Node) RemovePlugin(ctx context.Context, name string) error {
	if err := n.plugins.Delete(ctx, name); err != nil {
		return fmt.Errorf("remove plugin %s: %w", name, err)
	}
	return nil
}
