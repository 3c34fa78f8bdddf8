package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

// runOptions are the flags of `dplug run`.
type runOptions struct {
	startOptions
	detach bool
}

func newRunCmd(g *globalOptions) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run NAME|DIR",
		Short: "Run an installed plugin under libcontainer, with its logs in the terminal",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), g, &o, args[0])
		},
	}
	o.bind(cmd.Flags())
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "leave the plugin running in the background once it is ready")
	return cmd
}

func runRun(ctx context.Context, g *globalOptions, o *runOptions, arg string) error {
	// The plugin's output and dplug's own messages share stderr.
	errw := &output.SyncWriter{W: g.stderr}
	s, err := start(ctx, g, &o.startOptions, arg, harness.Settings{Output: errw, Detach: o.detach, Warn: errw})
	if err != nil {
		return err
	}
	_ = g.printResult(s.Info(), s.Socket(), true)
	if o.detach {
		return nil
	}
	return s.Serve(ctx, o.grace, errw)
}

// start resolves arg (a plugin dir or an installed plugin) and starts it
// with s, completed from the flags and --root.
func start(ctx context.Context, g *globalOptions, o *startOptions, arg string, s harness.Settings) (*harness.Session, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w (this is %s): 'dplug load' tries a plugin in a Docker Engine from here", run.ErrUnsupported, runtime.GOOS)
	}
	src, err := openSource(ctx, g, arg, source.WithKinds(source.Dir|source.Installed))
	if err != nil {
		return nil, err
	}
	s.RunRoot, s.Timeout, s.Log = runRoot(g), o.timeout, g.log
	return s.Start(ctx, src)
}

func runRoot(g *globalOptions) string { return filepath.Join(g.Root, "run") }

// runOpts find the runs of the store under --root (stop, logs, rm, doctor).
func runOpts(g *globalOptions) []run.Option {
	return []run.Option{run.WithRunRoot(runRoot(g)), run.WithLogger(g.log)}
}
