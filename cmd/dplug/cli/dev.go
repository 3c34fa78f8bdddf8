package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dev"
)

func newDevCmd(g *globalOptions) *cobra.Command {
	var o dev.Settings
	cmd := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "Build, run and test a plugin, again on every saved change",
		Args:  withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return dev.Run(cmd.Context(), append(args, ".")[0], o, dev.Env{Root: g.Root, Out: g.stderr, Log: g.log})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Name, "tag", "t", "", "plugin `NAME[:TAG]` (default: DIR's name, tag dev)")
	f.BoolVar(&o.Docker, "docker", false, "load into the Docker Engine instead of the local store")
	f.StringVarP(&o.Host, "host", "H", "", "Docker Engine address (default: DOCKER_HOST, then the docker context)")
	f.StringVar(&o.Builder, "builder", build.BuilderAuto, "`BUILDER`: auto, buildkitd, docker or a BuildKit address (see dplug build)")
	f.StringArrayVar(&o.Contexts, "build-context", nil, "named context `NAME=VALUE` (see dplug build)")
	f.StringArrayVar(&o.BuildArgs, "build-arg", nil, "build-time variable `KEY=VALUE`")
	f.StringVar(&o.Network, "network", "default", "network of RUN steps: `default`, host or none")
	f.BoolVar(&o.Once, "once", false, "run one iteration, clean up and exit with its result")
	f.DurationVar(&o.Debounce, "debounce", 300*time.Millisecond, "quiet time after a change before rebuilding")
	addGrace(f, &o.Grace)
	return cmd
}
