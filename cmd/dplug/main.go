// Command dplug builds, validates, installs, runs and publishes Docker Engine
// managed plugins without a Docker daemon.
package main

import (
	"os"

	"github.com/dplug/dplug/cmd/dplug/cli"
)

func main() {
	os.Exit(cli.Main())
}
