package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dev"
	"github.com/dplug/dplug/engine"
	"github.com/dplug/dplug/internal/output"
)

type devOptions struct {
	name, host, builder, network string
	docker, once                 bool
	contexts, buildArgs          []string
	debounce, grace              time.Duration
}

func newDevCmd(g *globalOptions) *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "dev [DIR]",
		Short: "Build, run and test a plugin, again on every saved change",
		Long: `Dev is the edit loop for the plugin project in DIR (default "."): build →
install → run → test, then again after every saved change (debounced;
rootfs/ and VCS directories are ignored). Each iteration prints one line
with each step's time and the test verdict.

By default (Linux, root) the plugin is installed in the local store and
run under libcontainer as 'dplug run' does; it stays running between
iterations, its output streamed prefixed with its name, and is probed as
'dplug test' does. A failed build leaves the last good plugin running.

With --docker it is loaded into the Docker Engine and enabled there
('dplug load'): the engine runs it. When dplug can reach the engine's
socket to the plugin (a local engine, dplug as root), 'dplug test''s
probes run on that socket; otherwise (a remote engine, Docker Desktop, a
user in the docker group) the plugin is used through the engine's API (a
volume driver gets a volume created, inspected and removed). The engine's
API serves no plugin logs: the plugin's output is in dockerd's own log.

Ctrl-C stops: the store plugin is stopped (it stays installed), the
engine plugin removed. Builds use --builder's discovery (see 'dplug
build'): with only a Docker Engine, its BuildKit.`,
		Example: `  dplug dev --docker examples/volume
  dplug dev -t me/myplugin:dev .`,
		Args: withUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDev(cmd.Context(), g, &o, append(args, ".")[0])
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
	f.BoolVar(&o.once, "once", false, "run one iteration, clean up and exit with its result")
	f.DurationVar(&o.debounce, "debounce", 300*time.Millisecond, "quiet time after a change before rebuilding")
	addGrace(f, &o.grace)
	return cmd
}

func runDev(ctx context.Context, g *globalOptions, o *devOptions, dir string) error {
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
	out := &output.SyncWriter{W: g.stderr}
	var s interface {
		Steps() []dev.Step
		Close(context.Context) error
	} = &dev.Local{Dir: abs, Root: g.Root, Name: name, Build: bopts, Out: out, Log: g.log, Grace: o.grace}
	if o.docker {
		s = &dev.Docker{Dir: abs, Name: name, Host: o.host, Build: bopts, Out: out}
	}
	fmt.Fprintf(out, "dev: watching %s (Ctrl-C stops)\n", abs)
	err = dev.Loop(ctx, abs, s.Steps(), dev.Options{Debounce: o.debounce, Out: out, Once: o.once})
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return errors.Join(err, s.Close(ctx))
}
