//go:build unix

package harness

import (
	"os/exec"
	"syscall"
)

// inOwnGroup starts cmd in a process group of its own, so that a signal
// reaches the programs it starts too.
func inOwnGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(pid int, sig syscall.Signal) { syscall.Kill(-pid, sig) }

func pauseGroup(pid int)  { signalGroup(pid, syscall.SIGSTOP) }
func resumeGroup(pid int) { signalGroup(pid, syscall.SIGCONT) }
