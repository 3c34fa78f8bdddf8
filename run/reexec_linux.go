//go:build cgo

package run

import (
	"os"
	"runtime"

	"github.com/opencontainers/runc/libcontainer"
	// nsexec: the C constructor that sets up namespaces in the re-executed
	// init before the Go runtime starts. It returns at once in any process
	// libcontainer did not start.
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// IsContainerInit reports whether this process is libcontainer re-executing
// the current binary as a container's init ("<argv0> init" with
// libcontainer's pipes in the environment). A user typing `dplug init` has
// no such environment and never gets here.
func IsContainerInit() bool {
	return len(os.Args) > 1 && os.Args[1] == "init" &&
		os.Getenv("_LIBCONTAINER_INITPIPE") != "" && os.Getenv("_LIBCONTAINER_SYNCPIPE") != ""
}

// ContainerInit runs libcontainer's init in this process and never returns.
// Call it first thing in main (and TestMain) when IsContainerInit is true.
func ContainerInit() {
	libcontainer.Init()
}

// LockMainThread must be called from an init function of package main (and
// of a test binary's package) in programs that call Start. It pins the main
// goroutine to the main thread, so no other goroutine ever runs there.
// libcontainer briefly joins each new container's mount namespace on a
// locked thread that it lets die afterwards; should that thread be the main
// one, Go cannot end it and the whole process would stay half inside the
// container's mount namespace, keeping it (and every mount in it) alive and
// making /proc/self/mountinfo describe the container.
func LockMainThread() { runtime.LockOSThread() }
