package phone

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Shell runs an interactive shell, as `adb shell` with no command gets:
// it prints a prompt such as "cloudphone_1:/ $ ", runs each line read from
// stdin, and returns the last exit status at `exit` or end of input. Errors
// are those of Run (a fault or ctx ending).
func (p *Phone) Shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	prompt := p.device() + ":/ $ "
	sh := &shell{p: p, ctx: ctx}
	r := bufio.NewReader(stdin)
	for {
		if _, err := io.WriteString(stdout, prompt); err != nil {
			return sh.status, fmt.Errorf("write prompt: %w", err)
		}
		line, rerr := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			switch p.pickFault(line) {
			case FaultStall:
				<-ctx.Done()
				return ExitCanceled, fmt.Errorf("stalled command: %w", ctx.Err())
			case FaultDrop:
				return ExitDropped, ErrDropConnection
			case FaultReboot:
				p.Reboot()
				return ExitDropped, ErrDropConnection
			}
			if _, err := sh.runLine(line, stdio{in: strings.NewReader(""), out: stdout, err: stderr}); err != nil {
				return ExitCanceled, err
			}
		}
		if sh.exited || rerr != nil {
			return sh.status, nil
		}
	}
}
