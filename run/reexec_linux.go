package run

import (
	"os"

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
