//go:build unix

package buildkitd

import "syscall"

// detachedAttr starts a process in its own session, so it outlives dplug.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// signal sends SIGTERM, or SIGKILL when kill is set.
func signal(pid int, kill bool) error {
	if kill {
		return syscall.Kill(pid, syscall.SIGKILL)
	}
	return syscall.Kill(pid, syscall.SIGTERM)
}

// exists reports whether a process with this pid exists (zombies included).
func exists(pid int) bool { return syscall.Kill(pid, 0) == nil }
