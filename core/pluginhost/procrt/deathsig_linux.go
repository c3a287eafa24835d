package procrt

import (
	"os/exec"
	"syscall"
)

// setDeathSignal asks the kernel to SIGKILL the plugin when the host dies,
// so that a host killed with SIGKILL leaves no orphan. (The SDK also exits a
// plugin whose parent changes, for hosts on other systems.)
//
// Linux sends the signal when the thread that forked the child exits, not
// only the process. The Go runtime keeps its threads, except that a thread
// is destroyed when a goroutine locked to it (runtime.LockOSThread) exits
// without unlocking: host code must not do that, or a plugin started from
// that thread would be killed and restarted.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
