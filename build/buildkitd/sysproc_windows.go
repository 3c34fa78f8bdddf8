package buildkitd

import "syscall"

// dplug's own buildkitd needs Linux (runc); on Windows builds use a remote
// BuildKit (--addr, BUILDKIT_HOST). These keep the package compiling.

func detachedAttr() *syscall.SysProcAttr { return nil }
func attachedAttr() *syscall.SysProcAttr { return nil }
func signal(int, bool) error             { return ErrNeedsLinux }
func exists(int) bool                    { return false }
