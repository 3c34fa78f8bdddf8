//go:build unix && !linux

package buildkitd

import "syscall"

// attachedAttr keeps a test daemon in its own process group.
func attachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
