package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/openautoglm/cloudphone/core/pluginhost"
)

// A plugin fetch ends after pluginFetchTimeout in all, or once it has
// received nothing for pluginFetchIdle (plus up to the 5 s a blocked read
// of the bucket's object reader waits before it looks at its context):
// now and then an object read stops receiving chunks and would otherwise
// wait out the whole timeout before the retry that succeeds.
const (
	pluginFetchTimeout = 10 * time.Minute
	pluginFetchIdle    = 10 * time.Second
)

// watchProgress returns r wrapped to record when it last gave bytes, and
// starts a watchdog that calls cancel (which ends r's reads) once r has
// given nothing for idle. stalled stops the watchdog and reports whether
// it fired.
func watchProgress(ctx context.Context, cancel context.CancelFunc, r io.Reader, idle time.Duration) (io.Reader, func() bool) {
	pr := &progressReader{r: r}
	pr.last.Store(time.Now().UnixNano())
	var fired atomic.Bool
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(idle / 10)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-t.C:
				if now.Sub(time.Unix(0, pr.last.Load())) > idle {
					fired.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	var once sync.Once
	return pr, func() bool {
		once.Do(func() { close(done); <-exited })
		return fired.Load()
	}
}

// progressReader records the time of its last read that gave bytes.
type progressReader struct {
	r    io.Reader
	last atomic.Int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// pluginResync is how often the plugin directory is reconciled with the
// bucket as a whole, in case a watch update was lost.
const pluginResync = 30 * time.Second

// startPluginSync watches the plugin bucket and keeps the plugin directory
// in step: the current objects when it starts, then every change. A sync
// that failed for a passing reason (fetch timeout, disk error) is retried
// with backoff; a refused one (verification, pin) waits for a new push.
func (n *Node) startPluginSync(ctx context.Context) error {
	w, err := n.plugins.Watch(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch plugins: %w", err)
	}
	again := make(chan string, 16)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer func() { _ = w.Stop() }()
		tries := map[string]int{}
		resync := time.NewTicker(pluginResync)
		defer resync.Stop()
		apply := func(info *jetstream.ObjectInfo) {
			s := n.syncPlugin(ctx, info)
			if s.Err == nil || errors.Is(s.Err, ErrPluginVerify) || pluginhost.CheckFileName(info.Name) != nil {
				delete(tries, info.Name)
				return
			}
			tries[info.Name]++
			if tries[info.Name] > 8 {
				delete(tries, info.Name)
				return // the next resync tries again
			}
			delay := time.Duration(tries[info.Name]) * 250 * time.Millisecond
			time.AfterFunc(delay, func() {
				select {
				case again <- info.Name:
				case <-ctx.Done():
				}
			})
		}
		for {
			select {
			case <-ctx.Done():
				return
			case info, ok := <-w.Updates():
				if !ok {
					return
				}
				if info != nil {
					apply(info)
				}
			case name := <-again:
				info, err := n.plugins.GetInfo(ctx, name, jetstream.GetObjectInfoShowDeleted())
				if err != nil {
					n.log.Warn("plugin sync retry", "plugin", name, "err", err)
					continue
				}
				apply(info)
			case <-resync.C:
				infos, err := n.plugins.List(ctx)
				if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
					n.log.Warn("plugin resync", "err", err)
				}
				for _, info := range infos {
					apply(info)
				}
			}
		}
	}()
	return nil
}

// syncPlugin writes (or removes) one plugin in the plugin directory and
// reports it.
func (n *Node) syncPlugin(ctx context.Context, info *jetstream.ObjectInfo) PluginSync {
	s := n.applyPlugin(ctx, info)
	if errors.Is(s.Err, ErrPluginVerify) {
		// Report a refusal once per pushed version, not at every resync.
		key := s.Name + "\x00" + s.SHA256
		n.mu.Lock()
		seen := n.refused[key]
		n.refused[key] = true
		n.mu.Unlock()
		if seen {
			return s
		}
	}
	if s.Err != nil {
		n.log.Error("plugin sync refused", "plugin", s.Name, "sha256", s.SHA256, "err", s.Err)
	} else if s.Path != "" || s.Removed {
		n.log.Info("plugin synced", "plugin", s.Name, "sha256", s.SHA256, "removed", s.Removed)
	}
	if n.opts.OnPlugin != nil && (s.Err != nil || s.Path != "" || s.Removed) {
		n.opts.OnPlugin(s)
	}
	return s
}

func (n *Node) applyPlugin(ctx context.Context, info *jetstream.ObjectInfo) PluginSync {
	s := PluginSync{Name: info.Name, SHA256: info.Metadata[metaSHA256]}
	if err := pluginhost.CheckFileName(info.Name); err != nil {
		s.Err = err
		return s
	}
	dst := filepath.Join(n.opts.PluginDir, info.Name)
	if info.Deleted {
		n.mu.Lock()
		was, ok := n.synced[info.Name]
		delete(n.synced, info.Name)
		n.mu.Unlock()
		// Remove only what this node synced: a file dropped here by hand
		// under the same name is the operator's.
		if ok && fileSHA256(dst) == was {
			if err := os.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.Err = fmt.Errorf("remove %s: %w", dst, err)
				return s
			}
			s.Removed = true
		}
		return s
	}
	if s.SHA256 == "" {
		s.Err = fmt.Errorf("%w: %s was pushed without a sha256", ErrPluginVerify, info.Name)
		return s
	}
	if fileSHA256(dst) == s.SHA256 {
		n.remember(info.Name, s.SHA256)
		return s // already in place (this node pushed it, or a restart)
	}
	if n.opts.Pins != nil {
		if pin := n.opts.Pins()[strings.TrimSuffix(info.Name, ".wasm")]; pin != "" && !strings.EqualFold(pin, s.SHA256) {
			s.Err = fmt.Errorf("%w: %s has sha256 %s, config plugins.pin pins %s", ErrPluginVerify, info.Name, s.SHA256, pin)
			return s
		}
	}
	// No deadline on the fetch's context: the object reader waits for a
	// chunk until that deadline, holding a lock Close also needs, so a
	// stalled read could be ended by nothing sooner. Without one, each of
	// its reads waits at most the client's API timeout (5 s) and then
	// checks the context, which the watchdog (idle) and the timer (the
	// whole fetch) cancel.
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	limit := time.AfterFunc(pluginFetchTimeout, cancel)
	defer limit.Stop()
	obj, err := n.plugins.Get(octx, info.Name)
	if err != nil {
		s.Err = fmt.Errorf("fetch %s: %w", info.Name, err)
		return s
	}
	defer obj.Close()
	body, stalled := watchProgress(octx, cancel, obj, pluginFetchIdle)
	defer stalled()
	mode := os.FileMode(0o644)
	if m, err := strconv.ParseUint(info.Metadata[metaMode], 8, 32); err == nil {
		mode = os.FileMode(m) & 0o755
	}
	prepare := func(tmp string) {
		if n.opts.Prepare == nil {
			return
		}
		if err := n.opts.Prepare(ctx, info.Name, tmp); err != nil {
			n.log.Warn("cluster: preparing a pushed plugin failed; publishing it for the host to refuse", "name", info.Name, "error", err)
		}
	}
	if err := writeVerified(n.opts.PluginDir, info.Name, body, s.SHA256, mode, prepare); err != nil {
		if stalled() {
			err = fmt.Errorf("fetch plugin %s: no data for %s; retrying: %w", info.Name, pluginFetchIdle, err)
		}
		s.Err = err
		return s
	}
	n.remember(info.Name, s.SHA256)
	s.Path = dst
	return s
}

func (n *Node) remember(name, sum string) {
	n.mu.Lock()
	n.synced[name] = sum
	n.mu.Unlock()
}

// writeVerified copies r into dir/.cp-publish-<random>-name while hashing it, and
// renames it to dir/name only if the hash is want, after prepare(tmp): the
// plugin host's watcher ignores dot files, so it sees the plugin appear
// whole or not at all.
func writeVerified(dir, name string, r io.Reader, want string, mode os.FileMode, prepare func(tmp string)) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, pluginhost.PublishTempPrefix+hex.EncodeToString(rnd[:])+"-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write plugin %s: %w", name, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		return fmt.Errorf("fetch plugin %s: %w", name, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("%w: %s fetched with sha256 %s, pushed with %s", ErrPluginVerify, name, got, want)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write plugin %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write plugin %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plugin %s: %w", name, err)
	}
	prepare(tmp)
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("install plugin %s: %w", name, err)
	}
	ok = true
	return nil
}

// fileSHA256 is the hex sha256 of a file, "" when it cannot be read.
func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
