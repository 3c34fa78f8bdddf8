package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/probe"
)

// testOptions are the flags of `dplug test`.
type testOptions struct {
	startOptions
	probe probe.Settings
}

func newTestCmd(g *globalOptions) *cobra.Command {
	var o testOptions
	cmd := &cobra.Command{
		Use:   "test NAME|DIR",
		Short: "Start a plugin and probe each interface it declares the way dockerd uses it",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTest(cmd.Context(), g, &o, args[0])
		},
	}
	o.bind(cmd.Flags())
	f := cmd.Flags()
	f.StringArrayVar(&o.probe.Opts, "opt", nil, "driver option KEY=VALUE, as docker volume create -o / network create -o / --ipam-opt (repeatable)")
	f.BoolVar(&o.probe.Strict, "strict", false, "fail on advisory checks too (conventions dockerd does not rely on)")
	f.StringVar(&o.probe.Subnet, "ipam-subnet", "", "pool an IPAM driver is asked for (as docker network create --subnet); also a network driver's IPv4 pool")
	f.StringVar(&o.probe.IP, "ipam-ip", "", "endpoint address an IPAM driver is asked for (as docker run --ip)")
	return cmd
}

func runTest(ctx context.Context, g *globalOptions, o *testOptions, arg string) error {
	popts, err := o.probe.Options()
	if err != nil {
		return usageError(err) // a *probe.InputError
	}
	errw := &output.SyncWriter{W: g.stderr}
	// The plugin's output goes to its log (the report quotes its tail if it
	// dies); with --debug it is shown live too.
	var w io.Writer
	if g.Debug {
		w = errw
	}
	s, err := start(ctx, g, &o.startOptions, arg, harness.Settings{Output: w, Warn: errw})
	if err != nil {
		return err
	}
	failed, err := s.WriteTest(ctx, o.grace, g.stdout, g.Output, popts...)
	if err == nil && failed {
		return &exitcode.Error{Code: exitcode.Failure}
	}
	return err
}
