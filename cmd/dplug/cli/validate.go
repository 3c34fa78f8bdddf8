package cli

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/internal/exitcode"
	"github.com/dplug/dplug/schemas"
	"github.com/dplug/dplug/validate"
)

func newValidateCmd(g *globalOptions) *cobra.Command {
	o := &validate.Settings{}
	cmd := &cobra.Command{
		Use:   "validate [FILE|DIR]...",
		Short: "Check plugin config.json / plugin-settings.json against dockerd's rules",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(g, o, args)
		},
	}
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "treat warnings as failures (exit 1)")
	cmd.Flags().StringVar(&o.Kind, "kind", "auto", "file kind: auto (by name), config or settings")
	cmd.Flags().BoolVar(&o.Consumer, "consumer", false, "judge as a consumer (install, run): what dockerd accepts but runs differently is a warning")
	cmd.Flags().StringArrayVar(&o.Set, "set", nil, "apply an install-time setting NAME[.FIELD]=VALUE before checking (repeatable)")
	return cmd
}

func runValidate(g *globalOptions, o *validate.Settings, args []string) error {
	// validate is a short batch job allocating a few MiB per 1,000 files:
	// collecting less often cuts its wall time by a third. GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	report, err := o.Check(args)
	if err != nil {
		return usageError(err)
	}
	if err := validate.Write(g.stdout, g.Output, report.Diagnostics, Version); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	if g.Debug && g.Output == "text" {
		fmt.Fprintln(g.stderr, report.Summary())
	}
	if report.Failed(o.Strict) {
		return &exitcode.Error{Code: exitcode.Failure}
	}
	return nil
}

func newSchemaCmd(g *globalOptions) *cobra.Command {
	var settings bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the embedded JSON schema for config.json",
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			data := schemas.PluginConfig
			if settings {
				data = schemas.PluginSettings
			}
			_, err := g.stdout.Write(data)
			return err
		},
	}
	cmd.Flags().BoolVar(&settings, "settings", false, "print the plugin-settings.json schema instead")
	return cmd
}
