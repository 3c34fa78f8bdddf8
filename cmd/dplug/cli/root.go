package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/internal/version"
	"github.com/dplug/dplug/store"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
// Without it, --version adds the VCS revision the go command stamped.
var Version = "dev"

// usageError marks err as a usage/IO problem (exit 2).
func usageError(err error) error { return exitcode.UsageError(err) }

// globalOptions are the persistent flags every command sees.
type globalOptions struct {
	Root   string // store root (--root, DPLUG_ROOT)
	Debug  bool   // --debug: verbose logs on stderr
	Output string // --output text|json (some commands add sarif)

	stdout, stderr io.Writer
	stdin          io.Reader
	log            *slog.Logger
}

// outputJSON reports whether the user asked for machine-readable output.
func (g *globalOptions) outputJSON() bool { return g.Output == "json" }

// printResult prints a command's result on stdout: with --output json, v as
// JSON, on one line when line is set (push, pull, run) or else indented
// (install, load); text otherwise.
func (g *globalOptions) printResult(v any, text string, line bool) error {
	switch {
	case !g.outputJSON():
		_, err := fmt.Fprintln(g.stdout, text)
		return err
	case line:
		return json.NewEncoder(g.stdout).Encode(v)
	}
	return output.JSON(g.stdout, v)
}

// NewRoot builds the dplug command tree writing to the given streams.
func NewRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "dplug",
		Short:         "Build, validate, install, run and publish Docker Engine managed plugins — no Docker daemon needed",
		Version:       version.String(Version),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.Root == "" {
				// An empty root would put the store in the working directory.
				return usageError(errors.New("--root is empty: give the plugin store directory"))
			}
			if err := output.CheckOutput(g.Output, cmd.Name() == "validate"); err != nil {
				return usageError(err)
			}
			g.log = output.NewLogger(g.stderr, g.Debug)
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.Root, "root", cmp.Or(os.Getenv("DPLUG_ROOT"), store.DefaultRoot()), "plugin store root (env DPLUG_ROOT)")
	pf.BoolVar(&g.Debug, "debug", false, "print debug logs on stderr")
	pf.StringVarP(&g.Output, "output", "o", "text", "output format: text or json")

	for _, newCmd := range commands {
		root.AddCommand(newCmd(g))
	}
	setHelp(root)
	return root
}

// commands lists every subcommand constructor, in help order. Each lives in
// its own file.
var commands = []func(*globalOptions) *cobra.Command{
	newInitCmd,
	newValidateCmd,
	newSchemaCmd,
	newBuildCmd,
	newBuildkitdCmd,
	newSetupCmd,
	newPushCmd,
	newPullCmd,
	newInstallCmd,
	newLsCmd,
	newInspectCmd,
	newRmCmd,
	newEnableCmd,
	newDisableCmd,
	newSetCmd,
	newExportCmd,
	newLoadCmd,
	newDevCmd,
	newDoctorCmd,
	newRunCmd,
	newStopCmd,
	newLogsCmd,
	newTestCmd,
}

// Main runs dplug with os.Args and returns the process exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run executes one dplug invocation; it is Main without the process globals,
// used by tests.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && isUsage(err) {
		err = usageError(err) // cobra's own errors for a mistyped command line
	}
	code, shown := exitcode.Of(err)
	if shown != nil {
		output.Error(stderr, "dplug: ", shown)
	}
	return code
}
