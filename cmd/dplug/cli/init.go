package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/scaffold"
)

type initOptions struct {
	Type   string
	Name   string
	Module string
	Force  bool
}

func newInitCmd(g *globalOptions) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a plugin project: Go source, Dockerfile, config.json, README",
		Args:  withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(g, append(args, ".")[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Type, "type", "t", "volume", "plugin type: "+strings.Join(scaffold.Types(), ", "))
	f.StringVar(&o.Name, "name", "", "plugin name: binary and socket name (default: DIR's base name)")
	f.StringVar(&o.Module, "module", "", "Go module path (default: example.com/NAME)")
	f.BoolVar(&o.Force, "force", false, "overwrite existing files")
	return cmd
}

// runInit creates the project and prints its files on stdout (or the
// project as JSON) and the next steps on stderr.
func runInit(g *globalOptions, dir string, o initOptions) error {
	// An empty name or module is scaffold's default (DIR's base name,
	// example.com/NAME); an *InputError is a usage error (exit 2).
	p, err := scaffold.Init(dir, o.Type, scaffold.WithName(o.Name), scaffold.WithModule(o.Module), scaffold.WithForce(o.Force))
	if err != nil {
		return err
	}
	return p.Write(g.stdout, g.stderr, g.outputJSON())
}
