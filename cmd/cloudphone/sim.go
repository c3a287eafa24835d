package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/openautoglm/cloudphone/plugins/device-sim/fleet"
	"github.com/openautoglm/cloudphone/plugins/device-sim/phone"
	"github.com/openautoglm/cloudphone/sdk/adb"
	"github.com/openautoglm/cloudphone/sdk/adb/adbd"
)

// simFlags are the flags of `cloudphone sim`.
type simFlags struct {
	count   int
	listen  string
	profile string
	width   int
	height  int
	model   string
	auth    bool
}

func newSimCmd(g *globals) *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run simulated Android phones that adb can connect to",
		Long: `sim runs simulated Android phones in this process, each an adbd on its own
TCP port (from --listen: 127.0.0.1:6100, 6101, …), prints their serials on
stdout, one per line, and serves until interrupted (Ctrl-C or SIGTERM stop
every phone cleanly). Ports 5555–5585 are refused: the adb server scans them
for emulators.

The phones run a small Android world (launcher, 设置, 微信, 美团, 淘宝,
高德地图, 浏览器) and answer adb as a phone does:

  cloudphone sim --count 2 &
  adb connect 127.0.0.1:6100
  adb -s 127.0.0.1:6100 shell wm size
  adb -s 127.0.0.1:6100 exec-out screencap -p > screen.png
  cloudphone sim state 127.0.0.1:6100

The same phones serve cloudphone tasks through the device-sim plugin
(plugins/device-sim).`,
		Example: `  cloudphone sim --count 4
  cloudphone sim --count 100 --listen 127.0.0.1:7000 --profile phone
  cloudphone sim state 127.0.0.1:6100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), g, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.count, "count", 4, "number of phones")
	fl.StringVar(&f.listen, "listen", fleet.DefaultListen, "first phone's address; the others take the next ports (port 0: system-picked ports)")
	fl.StringVar(&f.profile, "profile", "instant", "latency profile: instant, or phone (screencap ≈150 ms, input ≈20 ms, dump ≈100 ms)")
	fl.IntVar(&f.width, "width", phone.DefaultWidth, "screen width in pixels")
	fl.IntVar(&f.height, "height", phone.DefaultHeight, "screen height in pixels")
	fl.StringVar(&f.model, "model", "", `ro.product.model (default "CloudPhone 1")`)
	fl.BoolVar(&f.auth, "auth", false, "require adb authentication (any key the host offers is accepted, as if \"Always allow\" were tapped)")
	cmd.AddCommand(newSimStateCmd())
	return cmd
}

// runSim serves phones until ctx ends.
func runSim(ctx context.Context, g *globals, f simFlags, stdout, stderr io.Writer) error {
	if f.count < 1 {
		return fmt.Errorf("sim: --count must be at least 1, not %d", f.count)
	}
	if f.width < 64 || f.height < 64 || f.width > 8192 || f.height > 8192 {
		return fmt.Errorf("sim: screen %dx%d is out of range 64–8192", f.width, f.height)
	}
	prof, err := phone.ProfileByName(f.profile)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	o := fleet.Options{Count: f.count, Listen: f.listen, Width: f.width, Height: f.height,
		Model: f.model, Profile: prof, Logger: g.logger()}
	if f.auth {
		o.Auth = adbd.NewAuth()
		o.Auth.Confirm = func(context.Context, *rsa.PublicKey, string) bool { return true }
	}
	fl, err := fleet.Start(ctx, o)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	defer fl.Close()
	devs := fl.Devices()
	for _, d := range devs {
		if _, err := fmt.Fprintln(stdout, d.Serial); err != nil {
			return fmt.Errorf("sim: print serials: %w", err)
		}
	}
	fmt.Fprintf(stderr, "%d simulated phones serving adb; try: adb connect %s (Ctrl-C to stop)\n", len(devs), devs[0].Serial)
	<-ctx.Done()
	return nil
}

func newSimStateCmd() *cobra.Command {
	var (
		server  string
		keyPath string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "state SERIAL",
		Short: "Print a simulated phone's state as JSON",
		Long: `state connects to the simulated phone SERIAL ("127.0.0.1:6100") over adb, runs
its cloudphone-state shell command and prints the JSON: foreground app,
screen and back stack, keyboard and focused field, settings, and what each
app recorded (chats, carts, orders, searches). Tests and people use it to
check whether an instruction was really carried out.

By default it connects straight to the phone's port; with --adb-server it
goes through a running adb server (the phone must be connected there).`,
		Example: `  cloudphone sim state 127.0.0.1:6100
  cloudphone sim state 127.0.0.1:6100 --adb-server 127.0.0.1:5037`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return simState(ctx, args[0], server, keyPath, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&server, "adb-server", "", "go through the adb server at this address instead of dialling the phone")
	cmd.Flags().StringVar(&keyPath, "key", "", "adb private key for phones that require authentication (default ~/.android/adbkey when it exists)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	return cmd
}

// simState fetches and prints one phone's state.
func simState(ctx context.Context, serial, server, keyPath string, stdout io.Writer) error {
	var dev adb.Device
	if server != "" {
		dev = (&adb.ServerClient{Addr: server}).Device(serial)
	} else {
		opts, err := dialOptions(keyPath)
		if err != nil {
			return err
		}
		c, err := adb.Dial(ctx, serial, opts)
		if err != nil {
			return fmt.Errorf("sim state: %w", err)
		}
		defer func() { _ = c.Close() }()
		dev = c
	}
	out, errOut, code, err := dev.Shell(ctx, "cloudphone-state")
	if err != nil {
		return fmt.Errorf("sim state %s: %w", serial, err)
	}
	if code != 0 {
		return fmt.Errorf("sim state %s: cloudphone-state exited %d (is it a simulated phone?): %s", serial, code, errOut)
	}
	if _, err := stdout.Write(out); err != nil {
		return fmt.Errorf("sim state: write: %w", err)
	}
	return nil
}

// dialOptions loads the adb key at keyPath, or ~/.android/adbkey when
// keyPath is empty and that file exists.
func dialOptions(keyPath string) (*adb.DialOptions, error) {
	explicit := keyPath != ""
	if !explicit {
		home, err := os.UserHomeDir()
		if err != nil {
			return &adb.DialOptions{}, nil
		}
		keyPath = filepath.Join(home, ".android", "adbkey")
	}
	key, err := adb.LoadKey(keyPath)
	switch {
	case err == nil:
		return &adb.DialOptions{Keys: []*rsa.PrivateKey{key}}, nil
	case !explicit && errors.Is(err, fs.ErrNotExist):
		return &adb.DialOptions{}, nil
	}
	return nil, fmt.Errorf("sim state: adb key: %w", err)
}
