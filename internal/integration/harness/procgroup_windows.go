//go:build windows

package harness

import (
	"os"
	"os/exec"
	"syscall"
)

// Windows has no process groups or signals; the integration tests, which
// start sshd and rsyslogd, run on Unix. This keeps the package building.
func inOwnGroup(*exec.Cmd) {}

func signalGroup(pid int, _ syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

func pauseGroup(int)  { panic("harness: pausing a process needs SIGSTOP (Unix)") }
func resumeGroup(int) { panic("harness: resuming a process needs SIGCONT (Unix)") }
