// Command dplug builds, validates, installs, runs and publishes Docker Engine
// managed plugins without a Docker daemon.
package main

import (
	"os"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/run"
)

// init pins the main goroutine to the main thread so that libcontainer's
// short-lived namespace threads never land on it (see run.LockMainThread).
func init() { run.LockMainThread() }

func main() {
	// libcontainer starts each plugin by re-executing this binary as
	// "dplug init" with its pipes in the environment; that must be handled
	// before cobra, which would take "init" for the scaffolding command.
	// nsenter's C constructor (linked through package run) has already
	// set up the namespaces by now.
	if run.IsContainerInit() {
		run.ContainerInit() // never returns
	}
	os.Exit(cli.Main())
}
