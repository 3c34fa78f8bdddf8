package buildkitd

import "syscall"

// attachedAttr keeps a test daemon in its own process group and kills it
// when this process dies.
func attachedAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
