package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/internal/exitcode"
)

func newBuildkitdCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildkitd",
		Short: "Manage the buildkitd dplug starts for builds",
		Args:  withUsage(cobra.NoArgs),
	}
	cmd.AddCommand(newBuildkitdStartCmd(g), newBuildkitdStatusCmd(g), newBuildkitdStopCmd(g), newBuildkitdWatchCmd(g))
	return cmd
}

// daemonOptions configure dplug's own buildkitd: logs, debug, and the idle
// stop (buildkitd.SelfWatched).
func daemonOptions(g *globalOptions) ([]buildkitd.Option, error) {
	idle, err := buildkitd.SelfWatched(g.Root)
	if err != nil {
		return nil, err
	}
	return append([]buildkitd.Option{buildkitd.WithLogger(g.log), buildkitd.WithDebug(g.Debug)}, idle...), nil
}

func newBuildkitdWatchCmd(g *globalOptions) *cobra.Command {
	var idle time.Duration
	cmd := &cobra.Command{
		Use:    "watch",
		Short:  "Stop dplug's buildkitd once it has been idle for --idle (started with the daemon)",
		Hidden: true,
		Args:   withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if idle <= 0 {
				return usageError(fmt.Errorf("--idle must be positive"))
			}
			return buildkitd.New(g.Root, buildkitd.WithLogger(g.log)).StopWhenIdle(cmd.Context(), idle)
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", buildkitd.DefaultIdle, "stop after this long unused")
	return cmd
}

func newBuildkitdStartCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "Start dplug's buildkitd (or find it running) and print its address",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := daemonOptions(g)
			if err != nil {
				return usageError(err)
			}
			addr, started, err := buildkitd.New(g.Root, opts...).Ensure(cmd.Context())
			if err != nil {
				return err
			}
			if started {
				fmt.Fprintf(g.stderr, "dplug: started buildkitd at %s\n", addr)
			}
			fmt.Fprintln(g.stdout, addr)
			return nil
		},
	}
}

func newBuildkitdStatusCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether dplug's buildkitd runs (exit 1 when it does not)",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := buildkitd.New(g.Root, buildkitd.WithLogger(g.log)).Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := st.Write(g.stdout, g.outputJSON()); err != nil {
				return err
			}
			if !st.Healthy() {
				return &exitcode.Error{Code: exitcode.Failure}
			}
			return nil
		},
	}
}

func newBuildkitdStopCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop dplug's buildkitd (its build cache stays for the next start)",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			stopped, err := buildkitd.New(g.Root, buildkitd.WithLogger(g.log)).Stop(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stderr, map[bool]string{true: "dplug: buildkitd stopped", false: "dplug: buildkitd was not running"}[stopped])
			return nil
		},
	}
}

func newSetupCmd(g *globalOptions) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install what 'dplug build' needs: buildkitd (built from the pinned version) and check runc",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return buildkitd.Setup(cmd.Context(), g.Root, check, g.stderr)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only check, install nothing")
	return cmd
}
