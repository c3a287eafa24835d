package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// TestSim runs `cloudphone sim`, reads its serials, asks one phone for its
// state with `cloudphone sim state`, then stops it with SIGINT.
func TestSim(t *testing.T) {
	bin := pluginbuild.GoBinary(t, "./", "")
	cmd := exec.Command(bin, "sim", "--count", "3", "--listen", "127.0.0.1:0", "--width", "720", "--height", "1600")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	serialRE := regexp.MustCompile(`^127\.0\.0\.1:\d+$`)
	sc := bufio.NewScanner(stdout)
	var serials []string
	for len(serials) < 3 && sc.Scan() {
		line := sc.Text()
		if !serialRE.MatchString(line) {
			t.Fatalf("stdout line %q is not a serial", line)
		}
		serials = append(serials, line)
	}
	if len(serials) != 3 {
		t.Fatalf("got serials %v; stderr:\n%s", serials, stderr.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "sim", "state", serials[1]).Output()
	if err != nil {
		t.Fatalf("sim state: %v", err)
	}
	var st struct {
		Serial     string `json:"serial"`
		Width      int    `json:"width"`
		CurrentApp string `json:"current_app"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("sim state printed %q: %v", out, err)
	}
	if st.Serial != serials[1] || st.Width != 720 || st.CurrentApp != "com.android.launcher3" {
		t.Errorf("state %+v", st)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("sim exited with %v after SIGINT; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop on SIGINT")
	}
	for _, s := range serials {
		if c, err := net.DialTimeout("tcp", s, time.Second); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections after sim stopped", s)
		}
	}
}

func TestSimRefusesEmulatorPorts(t *testing.T) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"sim", "--count", "2", "--listen", "127.0.0.1:5584"})
	err := root.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "5555") {
		t.Fatalf("sim on 5584: %v", err)
	}
	root = newRoot()
	root.SetArgs([]string{"sim", "state", "127.0.0.1:1", "--timeout", "2s"})
	if err := root.ExecuteContext(context.Background()); err == nil {
		t.Fatal("sim state of a closed port succeeded")
	}
}
