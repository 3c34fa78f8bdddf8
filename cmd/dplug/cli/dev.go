package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/dev"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/store"
)

type devOptions struct {
	name      string
	docker    bool
	host      string
	builder   string
	contexts  []string
	buildArgs []string
	network   string
	once      bool
	debounce  time.Duration
}

func newDevCmd(g *globalOptions) *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "Build, install or load, and test a plugin on every saved change",
		Long: `Dev is the edit loop: it builds the plugin project in DIR (default "."),
then either installs it in the local store and runs 'dplug test' on it
(Linux), or, with --docker, loads it into the Docker Engine ('dplug load')
and uses it there (a volume driver gets a volume created and removed) —
and does it again after every saved change (debounced; rootfs/ and VCS
directories are ignored). Each iteration prints one line with each step's
time and the verdict. Ctrl-C stops.

Builds use --builder's discovery (see 'dplug build'): on a machine with
only a Docker Engine, the engine's BuildKit. The plugin is named after DIR
unless -t NAME. The plugin's own output lines are shown as the test runs,
prefixed with its name as 'dplug run' does (store), or are in the Docker
Engine's log (--docker).`,
		Example: `  dplug dev --docker examples/volume
  dplug dev -t me/myplugin:dev .`,
		Args: withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runDev(cmd, g, &o, dir)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.name, "tag", "t", "", "plugin `NAME[:TAG]` (default: DIR's name, tag dev)")
	f.BoolVar(&o.docker, "docker", false, "load into the Docker Engine instead of the local store")
	f.StringVarP(&o.host, "host", "H", "", "Docker Engine address (default: DOCKER_HOST, then the docker context)")
	f.StringVar(&o.builder, "builder", build.BuilderAuto, "`BUILDER`: auto, buildkitd, docker or a BuildKit address (see dplug build)")
	f.StringArrayVar(&o.contexts, "build-context", nil, "named context `NAME=VALUE` (see dplug build)")
	f.StringArrayVar(&o.buildArgs, "build-arg", nil, "build-time variable `KEY=VALUE`")
	f.StringVar(&o.network, "network", "default", "network of RUN steps: `default`, host or none")
	f.BoolVar(&o.once, "once", false, "run one iteration and exit with its result")
	f.DurationVar(&o.debounce, "debounce", 300*time.Millisecond, "quiet time after a change before rebuilding")
	return cmd
}

func runDev(cmd *cobra.Command, g *globalOptions, o *devOptions, dir string) error {
	ctx := cmd.Context()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = filepath.Base(abs) + ":dev"
	}
	if _, err := engine.Name(name); err != nil {
		return usageError(fmt.Errorf("%w: name it with -t NAME", err))
	}
	if !o.docker && runtime.GOOS != "linux" {
		return fmt.Errorf("dplug dev runs plugins under libcontainer, which needs Linux: use dplug dev --docker")
	}
	args, err := parseKV("build-arg", o.buildArgs, true)
	if err != nil {
		return usageError(err)
	}
	contexts, err := parseKV("build-context", o.contexts, false)
	if err != nil {
		return usageError(err)
	}
	if !g.Debug {
		logrus.SetOutput(io.Discard)
	}
	bopts := []build.Option{
		build.WithRoot(g.Root), build.WithLogger(g.log), build.WithBuilder(o.builder),
		build.WithDockerHost(o.host), build.WithBuildArgs(args), build.WithBuildContexts(contexts),
		build.WithNetwork(o.network), build.WithProgress("quiet", g.stderr),
	}
	var steps []dev.Step
	if o.docker {
		out, err := os.MkdirTemp("", "dplug-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(out)
		pluginDir := filepath.Join(out, "plugin")
		steps = []dev.Step{
			{Name: "build", Run: func(ctx context.Context) (string, error) {
				_, err := build.Run(ctx, abs, &dest.Dir{Path: pluginDir}, bopts...)
				return "", err
			}},
			{Name: "load", Run: func(ctx context.Context) (string, error) {
				return "", withEngine(ctx, o.host, func(e *engine.Engine) error {
					_, err := e.Load(ctx, store.DirSource(pluginDir), name)
					return err
				})
			}},
			{Name: "test", Run: func(ctx context.Context) (note string, err error) {
				err = withEngine(ctx, o.host, func(e *engine.Engine) error {
					note, err = e.Smoke(ctx, name)
					return err
				})
				return note, err
			}},
		}
	} else {
		steps = []dev.Step{
			{Name: "build+install", Run: func(ctx context.Context) (string, error) {
				_, err := build.Run(ctx, abs, &dest.Store{Root: g.Root, Name: name}, bopts...)
				return "", err
			}},
			{Name: "test", Run: func(ctx context.Context) (string, error) {
				to := &testOptions{startOptions: startOptions{timeout: run.DefaultTimeout, grace: 5 * time.Second}, logs: true}
				if err := runTest(ctx, g, to, name); err != nil {
					return "FAIL", err
				}
				return "PASS", nil
			}},
		}
	}
	fmt.Fprintf(g.stderr, "dev: watching %s (Ctrl-C stops)\n", abs)
	err = dev.Loop(ctx, abs, steps, dev.Options{Debounce: o.debounce, Out: g.stderr, Once: o.once})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func withEngine(ctx context.Context, host string, fn func(*engine.Engine) error) error {
	e, err := engine.Connect(ctx, engine.WithHost(host))
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(e)
}
