package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/harness"
	"github.com/dplug/dplug/internal/output"
	"github.com/dplug/dplug/probe"
)

// testOptions are the flags of `dplug test`.
type testOptions struct {
	startOptions
	opts       []string
	strict     bool
	ipamSubnet string
	ipamIP     string
	// logs streams the plugin's output, prefixed, to stderr as the
	// probes run (dplug dev), as --debug does.
	logs bool
}

func newTestCmd(g *globalOptions) *cobra.Command {
	var o testOptions
	cmd := &cobra.Command{
		Use:     "test NAME|DIR",
		Short:   "Start a plugin and probe each interface it declares the way dockerd uses it",
		Long:    help("test"),
		Example: help("test.example"),
		Args:    withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTest(cmd.Context(), g, &o, args[0])
		},
	}
	o.bind(cmd.Flags())
	f := cmd.Flags()
	f.StringArrayVar(&o.opts, "opt", nil, "driver option KEY=VALUE, as docker volume create -o / network create -o / --ipam-opt (repeatable)")
	f.BoolVar(&o.strict, "strict", false, "fail on advisory checks too (conventions dockerd does not rely on)")
	f.StringVar(&o.ipamSubnet, "ipam-subnet", "", "pool an IPAM driver is asked for (as docker network create --subnet); also a network driver's IPv4 pool")
	f.StringVar(&o.ipamIP, "ipam-ip", "", "endpoint address an IPAM driver is asked for (as docker run --ip)")
	return cmd
}

// probeOptions turns the test flags into probe options; bad values are
// usage errors.
func (o *testOptions) probeOptions() ([]probe.Option, error) {
	opts := []probe.Option{probe.WithStrict(o.strict)}
	if len(o.opts) > 0 {
		m := map[string]string{}
		for _, kv := range o.opts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usageError(fmt.Errorf("--opt %q: want KEY=VALUE", kv))
			}
			m[k] = v
		}
		opts = append(opts, probe.WithDriverOptions(m))
	}
	if o.ipamSubnet != "" {
		pf, err := netip.ParsePrefix(o.ipamSubnet)
		if err != nil {
			return nil, usageError(fmt.Errorf("--ipam-subnet %q: want a CIDR such as 10.20.0.0/24", o.ipamSubnet))
		}
		opts = append(opts, probe.WithIPAMSubnet(pf.Masked().String()))
	}
	if o.ipamIP != "" {
		ip, err := netip.ParseAddr(o.ipamIP)
		if err != nil {
			return nil, usageError(fmt.Errorf("--ipam-ip %q: want an IP address such as 10.20.0.5", o.ipamIP))
		}
		opts = append(opts, probe.WithIPAMAddress(ip.String()))
	}
	return opts, nil
}

func runTest(ctx context.Context, g *globalOptions, o *testOptions, arg string) error {
	popts, err := o.probeOptions()
	if err != nil {
		return err
	}
	errw := &output.SyncWriter{W: g.stderr}
	// The plugin's output goes to its log (the report quotes its tail if it
	// dies); with --debug (or from dplug dev) it is shown live too.
	var w io.Writer
	if g.Debug || o.logs {
		w = errw
	}
	s, err := start(ctx, g, &o.startOptions, arg, errw, harness.WithOutput(w))
	if err != nil {
		return err
	}
	rep, stopErr := s.Test(ctx, o.grace, popts...)
	if rep == nil {
		return stopErr
	}
	if err := printTestReport(g, s.Plugin.Name, rep); err != nil {
		return err
	}
	if stopErr != nil {
		return stopErr
	}
	if rep.Failed() > 0 {
		return &exitError{Code: ExitFailure}
	}
	return nil
}

// printTestReport prints the checks as a table and a summary, or as JSON.
func printTestReport(g *globalOptions, name string, rep *probe.Report) error {
	if g.outputJSON() {
		return json.NewEncoder(g.stdout).Encode(struct {
			Name    string `json:"name"`
			Failed  int    `json:"failed"`
			Warned  int    `json:"warned"`
			Skipped int    `json:"skipped"`
			*probe.Report
		}{name, rep.Failed(), rep.Warned(), rep.Skipped(), rep})
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Status, c.Kind, c.Method, c.Name, c.Reason)
	}
	tw.Flush()
	fmt.Fprintf(g.stdout, "%d checks, %d failed, %d warnings, %d skipped\n", len(rep.Checks), rep.Failed(), rep.Warned(), rep.Skipped())
	return nil
}
