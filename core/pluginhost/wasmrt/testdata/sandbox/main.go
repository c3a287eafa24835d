// Command sandbox is a test planner that tries what the sandbox forbids and
// reports what happened in PlanResponse.Thinking: "open" reads
// /etc/passwd, "dial" opens a TCP connection, "env" and "args" list the
// environment and arguments, "time" reads the wall clock, "rand" reads 8
// random bytes, "print" writes to stdout and stderr.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/openautoglm/cloudphone/sdk/guest"
	cpv1 "github.com/openautoglm/cloudphone/sdk/proto/cloudphone/v1"
)

type planner struct{}

func (planner) Plan(req *cpv1.PlanRequest) (*cpv1.PlanResponse, error) {
	var out string
	switch req.GetInstruction() {
	case "open":
		f, err := os.Open("/etc/passwd")
		if err != nil {
			return nil, fmt.Errorf("open failed: %w", err)
		}
		f.Close()
		out = "open succeeded"
	case "dial":
		c, err := net.Dial("tcp", "127.0.0.1:80")
		if err != nil {
			return nil, fmt.Errorf("dial failed: %w", err)
		}
		c.Close()
		out = "dial succeeded"
	case "env":
		out = strings.Join(os.Environ(), ",")
	case "args":
		out = strings.Join(os.Args, ",")
	case "time":
		out = time.Now().UTC().Format(time.RFC3339)
	case "rand":
		var b [8]byte
		_, _ = rand.Read(b[:])
		out = hex.EncodeToString(b[:])
	case "print":
		fmt.Println("hello on stdout")
		fmt.Fprintln(os.Stderr, "hello on stderr")
		out = "printed"
	}
	return &cpv1.PlanResponse{Thinking: out}, nil
}

func init() { guest.RegisterPlanner(&cpv1.PluginInfo{Name: "test-sandbox", Version: "1"}, planner{}) }

func main() {}
