package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openautoglm/cloudphone/core/cluster"
	"github.com/openautoglm/cloudphone/core/pluginhost"
	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestInstallPluginOnServer: on a server that is not a cluster node, POST
// /api/v1/plugins installs the file in the server's own plugin directory
// and answers once it serves; a file the host refuses answers 422 with
// the reason and changes nothing.
func TestInstallPluginOnServer(t *testing.T) {
	plugins := t.TempDir()
	_, url, _ := startServer(t, plugins, t.TempDir(), "  auth:\n    disabled: true\n")
	wasm, err := os.ReadFile(pluginbuild.BuildWasm(t, "../../examples/planner-hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	post := func(name string, body []byte) (int, []byte) {
		t.Helper()
		resp, err := http.Post(url+"/api/v1/plugins?name="+name, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	status := func() []pluginhost.Status {
		t.Helper()
		resp, err := http.Get(url + "/api/v1/plugins")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st []pluginhost.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	code, body := post("planner-hello.wasm", wasm)
	if code != http.StatusCreated {
		t.Fatalf("install: %d %s", code, body)
	}
	var obj cluster.PluginObject
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	st := status()
	if len(st) != 1 || st[0].State != pluginhost.StateActive || st[0].SHA256 != obj.SHA256 || obj.Size != uint64(len(wasm)) {
		t.Fatalf("after install: %+v (answered %+v)", st, obj)
	}
	if _, err := os.Stat(filepath.Join(plugins, "planner-hello.wasm")); err != nil {
		t.Fatalf("the plugin is not in the plugin directory: %v", err)
	}

	code, body = post("planner-hello.wasm", wasm[:len(wasm)/2])
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "compile") {
		t.Fatalf("truncated module: %d %s, want 422 with the reason", code, body)
	}
	if st := status(); len(st) != 1 || st[0].State != pluginhost.StateActive || st[0].SHA256 != obj.SHA256 {
		t.Fatalf("a refused install changed what serves: %+v", st)
	}

	// An executable that is not a plugin fails its handshake before it
	// takes its name.
	notPlugin, err := os.ReadFile(pluginbuild.GoBinary(t, "../pluginhost/procrt/testdata/notplugin", ""))
	if err != nil {
		t.Fatal(err)
	}
	code, body = post("device-x&executable=true", notPlugin)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "not a cloudphone plugin") {
		t.Fatalf("a binary that is not a plugin: %d %s, want 422 with the reason", code, body)
	}
	if _, err := os.Stat(filepath.Join(plugins, "device-x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused binary was published: %v", err)
	}
	if st := status(); len(st) != 1 {
		t.Fatalf("a refused install changed what serves: %+v", st)
	}
}
