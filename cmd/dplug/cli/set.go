package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dplug/dplug/plugin"
	"github.com/spf13/cobra"
)

func newSetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "set NAME KEY=VALUE...",
		Short:   "Change a plugin's settable env, args, mount sources or device paths",
		Long:    help("set"),
		Example: help("set.example"),
		Args:    withUsage(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openStore(g)
			if err != nil {
				return err
			}
			p, err := s.Get(args[0])
			if err != nil {
				return err
			}
			if p.Enabled {
				return fmt.Errorf("plugin %s is enabled: cannot set on an active plugin, disable plugin before setting (`dplug disable %s`)", p.FullName(), p.FullName())
			}
			if _, err = s.Set(args[0], args[1:]); err != nil {
				names := settableNames(&p.Config)
				if len(names) == 0 {
					return fmt.Errorf("plugin %s: %w (nothing in its config.json is settable)", p.FullName(), err)
				}
				return fmt.Errorf("plugin %s: %w (settable: %s)", p.FullName(), err, strings.Join(names, ", "))
			}
			return nil
		},
	}
}

// settableNames lists what `dplug set` may change, as its KEY=VALUE
// arguments spell it.
func settableNames(c *plugin.Config) []string {
	var names []string
	for _, e := range c.Env {
		if slices.Contains(e.Settable, "value") {
			names = append(names, e.Name)
		}
	}
	if slices.Contains(c.Args.Settable, "value") {
		names = append(names, c.Args.Name)
	}
	for _, m := range c.Mounts {
		if slices.Contains(m.Settable, "source") {
			names = append(names, m.Name+".source")
		}
	}
	for _, d := range c.Linux.Devices {
		if slices.Contains(d.Settable, "path") {
			names = append(names, d.Name+".path")
		}
	}
	return names
}
