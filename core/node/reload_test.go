package node

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/core/auth"
)

// TestServerConfigReload: a live edit of sched.max_queued applies to the
// next submission (429 queue_full beyond it).
func TestServerConfigReload(t *testing.T) {
	plugins, data := t.TempDir(), t.TempDir() // no device plugin: tasks stay queued
	cfgPath := filepath.Join(t.TempDir(), "cloudphone.yaml")
	writeConfig(t, cfgPath, plugins, data, "", "")
	n, url, _ := startNode(t, cfgPath)
	tok, _, err := n.Auth.Issue(auth.TokenSpec{Subject: "op", Tenant: "default", Role: auth.RoleOperator, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := client{t: t, url: url, token: tok}
	if code := c.do("POST", "/api/v1/run", map[string]any{"instruction": "x"}, nil); code != 202 {
		t.Fatalf("first submission: %d", code)
	}
	writeConfig(t, cfgPath, plugins, data, "", "sched:\n  max_queued: 1\n")
	poll(t, func() error {
		var e struct{ Error struct{ Code string } }
		if code := c.do("POST", "/api/v1/run", map[string]any{"instruction": "x"}, &e); code != 429 || e.Error.Code != "queue_full" {
			return fmt.Errorf("submission after the edit: %d %s", code, e.Error.Code)
		}
		return nil
	})
}
