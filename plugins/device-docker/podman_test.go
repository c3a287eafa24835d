package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/openautoglm/cloudphone/sdk/plugintest/pluginbuild"
)

// The tests run a real engine: podman's Docker-compatible service, with
// its own storage (vfs driver, no mounts to undo) in a directory shared by
// the tests of one test binary, so the image is built once. Each test
// starts its own service and stops it in t.Cleanup, after removing every
// container.

// testImage is the phone image the tests build: a static cloudphone
// binary whose `sim` command plays the phone.
const testImage = "localhost/cloudphone-sim:test"

// simPort is where the phone listens inside the container.
const simPort = 6100

// containersConf is what podman needs on these machines: runc (crun
// refuses hybrid cgroups) and ulimits no higher than the current ones.
const containersConf = `[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
`

var (
	storeOnce sync.Once
	storeDir  string
	storeErr  error
)

// podman is one running service.
type podman struct {
	endpoint string
	args     []string // global flags selecting the test storage
	env      []string
}

// podmanStore prepares the shared storage and imports the image, once.
func podmanStore(t *testing.T) (args, env []string) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (apt-get install podman runc): the device-docker engine tests need it")
	}
	storeOnce.Do(func() {
		storeDir, storeErr = os.MkdirTemp("", "device-docker-podman-")
		if storeErr != nil {
			return
		}
		storeErr = buildImage(t, storeDir)
	})
	if storeErr != nil {
		t.Fatal(storeErr)
	}
	return storeArgs(storeDir), []string{"CONTAINERS_CONF=" + filepath.Join(storeDir, "containers.conf")}
}

func storeArgs(dir string) []string {
	return []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}
}

// buildImage writes containers.conf and imports a rootfs holding only a
// statically linked cloudphone as testImage, with `cloudphone sim` as its
// command.
func buildImage(t *testing.T, dir string) error {
	start := time.Now()
	if err := os.WriteFile(filepath.Join(dir, "containers.conf"), []byte(containersConf), 0o644); err != nil {
		return fmt.Errorf("write containers.conf: %w", err)
	}
	bin := pluginbuild.GoBinary(t, "github.com/openautoglm/cloudphone/cmd/cloudphone", "") // CGO_ENABLED=0: static
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read cloudphone binary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "cloudphone"), data, 0o755); err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	tarball := filepath.Join(dir, "rootfs.tar")
	if out, err := exec.Command("tar", "-C", rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("tar rootfs: %w: %s", err, out)
	}
	// The phone listens on 0.0.0.0 inside the container's own network
	// namespace; the engine publishes it on the host's 127.0.0.1 only.
	cmd := fmt.Sprintf(`CMD ["/cloudphone", "sim", "--count", "1", "--listen", "0.0.0.0:%d"]`, simPort)
	args := append(storeArgs(dir), "import", "--change", cmd, tarball, testImage)
	c := exec.Command("podman", args...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"))
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("podman import: %w: %s", err, out)
	}
	_ = os.RemoveAll(rootfs)
	_ = os.Remove(tarball)
	t.Logf("image %s built in %s", testImage, time.Since(start).Round(time.Millisecond))
	return nil
}

// cleanupStore removes the shared storage; TestMain calls it.
func cleanupStore() {
	if storeDir == "" {
		return
	}
	c := exec.Command("podman", append(storeArgs(storeDir), "rm", "--all", "--force")...)
	c.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(storeDir, "containers.conf"))
	_ = c.Run()
	_ = os.RemoveAll(storeDir)
	storeDir = ""
}

// startPodman starts a podman service on a socket of its own and stops it
// at cleanup, after removing every container.
func startPodman(t *testing.T) *podman {
	t.Helper()
	args, env := podmanStore(t)
	dir, err := os.MkdirTemp("", "pm-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "podman.sock")
	p := &podman{endpoint: "unix://" + sock, args: args, env: append(os.Environ(), env...)}
	var logs bytes.Buffer
	svc := exec.Command("podman", append(slicesClone(args), "system", "service", "--time=0", p.endpoint)...)
	svc.Env = p.env
	svc.Stdout, svc.Stderr = &logs, &logs
	svc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := svc.Start(); err != nil {
		t.Fatalf("podman system service: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = svc.Wait(); close(done) }()
	t.Cleanup(func() {
		p.podman(t, "rm", "--all", "--force")
		_ = svc.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-svc.Process.Pid, syscall.SIGKILL)
			<-done
		}
		_ = os.RemoveAll(dir)
		if t.Failed() {
			t.Logf("podman service output:\n%s", logs.String())
		}
	})
	cli, err := client.New(client.WithHost(p.endpoint))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cli.Close() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Ping(ctx, client.PingOptions{})
		cancel()
		if err == nil {
			return p
		}
		select {
		case <-done:
			t.Fatalf("podman service exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman service did not answer at %s: %v\n%s", p.endpoint, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// podman runs a podman command on the test storage and returns its
// output.
func (p *podman) podman(t *testing.T, args ...string) string {
	t.Helper()
	c := exec.Command("podman", append(slicesClone(p.args), args...)...)
	c.Env = p.env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Logf("podman %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
