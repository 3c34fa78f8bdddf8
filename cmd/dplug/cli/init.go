package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
		Use:     "init [DIR]",
		Short:   "Create a plugin project: Go source, Dockerfile, config.json, README",
		Long:    help("init"),
		Example: help("init.example"),
		Args:    withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runInit(g, dir, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Type, "type", "t", "volume", "plugin type: "+strings.Join(scaffold.Types(), ", "))
	f.StringVar(&o.Name, "name", "", "plugin name: binary and socket name (default: DIR's base name)")
	f.StringVar(&o.Module, "module", "", "Go module path (default: example.com/NAME)")
	f.BoolVar(&o.Force, "force", false, "overwrite existing files")
	return cmd
}

// initResult is what --output json prints.
type initResult struct {
	Dir   string   `json:"dir"`
	Type  string   `json:"type"`
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

func runInit(g *globalOptions, dir string, o initOptions) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return usageError(fmt.Errorf("%s exists and is not a directory: give a new or existing project directory", dir))
	}
	name := o.Name
	if name == "" {
		var err error
		if name, err = scaffold.DirName(dir); err != nil {
			return usageError(err)
		}
	}
	opts := []scaffold.Option{scaffold.WithName(name), scaffold.WithForce(o.Force)}
	if o.Module != "" {
		opts = append(opts, scaffold.WithModule(o.Module))
	}
	files, err := scaffold.Write(dir, o.Type, opts...)
	var ie *scaffold.InputError
	if errors.As(err, &ie) {
		return usageError(err) // unknown type, bad name or module path
	}
	if err != nil {
		return fmt.Errorf("creating plugin project: %w", err)
	}
	if g.outputJSON() {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(initResult{Dir: dir, Type: o.Type, Name: name, Files: files})
	}
	for _, f := range files {
		fmt.Fprintln(g.stdout, f)
	}
	fmt.Fprintf(g.stderr, `
Created a %s plugin %q in %s. Next:
  cd %s
  dplug build -t %s .
  dplug validate --strict config.json
  sudo dplug run %s     # Ctrl-C stops it
  sudo dplug test %s
`, o.Type, name, dir, dir, name, name, name)
	return nil
}
