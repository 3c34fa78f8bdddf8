package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/build/buildkitd"
)

func newBuildkitdCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildkitd",
		Short: "Manage the buildkitd dplug starts for builds",
		Long:  help("buildkitd"),
		Args:  withUsage(cobra.NoArgs),
	}
	cmd.AddCommand(newBuildkitdStartCmd(g), newBuildkitdStatusCmd(g), newBuildkitdStopCmd(g), newBuildkitdWatchCmd(g))
	return cmd
}

// defaultIdle is how long dplug's buildkitd may sit unused before its
// watcher stops it; DPLUG_BUILDKITD_IDLE overrides it (0 = never).
const defaultIdle = 30 * time.Minute

// daemonOptions configure dplug's own buildkitd: debug, and the idle stop
// (dplug re-runs itself as the watcher; not from a test binary, which
// would run its tests instead).
func daemonOptions(g *globalOptions) ([]buildkitd.Option, error) {
	opts := []buildkitd.Option{buildkitd.WithLogger(g.log), buildkitd.WithDebug(g.Debug)}
	idle := defaultIdle
	if v := os.Getenv("DPLUG_BUILDKITD_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("invalid DPLUG_BUILDKITD_IDLE %q: want a duration like 30m, or 0 for never", v)
		}
		idle = d
	}
	exe, err := os.Executable()
	if idle > 0 && err == nil && !strings.HasSuffix(exe, ".test") {
		opts = append(opts, buildkitd.WithIdleTimeout(idle),
			buildkitd.WithWatcher(exe, "--root", g.Root, "buildkitd", "watch", "--idle", idle.String()))
	}
	return opts, nil
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
			m := buildkitd.New(g.Root, buildkitd.WithLogger(g.log))
			return m.StopWhenIdle(cmd.Context(), idle)
		},
	}
	cmd.Flags().DurationVar(&idle, "idle", defaultIdle, "stop after this long unused")
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
			m := buildkitd.New(g.Root, opts...)
			addr, started, err := m.Ensure(cmd.Context())
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
			m := buildkitd.New(g.Root, buildkitd.WithLogger(g.log))
			st, err := m.Status(cmd.Context())
			if err != nil {
				return err
			}
			if g.outputJSON() {
				if err := json.NewEncoder(g.stdout).Encode(st); err != nil {
					return err
				}
			} else {
				switch {
				case !st.Running:
					fmt.Fprintf(g.stdout, "not running (state %s)\n", st.StateDir)
				case !st.Answering:
					fmt.Fprintf(g.stdout, "pid %d does not answer on %s (log %s)\n", st.PID, st.Addr, st.LogFile)
				default:
					fmt.Fprintf(g.stdout, "running: pid %d, %s, state %s, log %s\n", st.PID, st.Addr, st.StateDir, st.LogFile)
				}
			}
			if !st.Running || !st.Answering {
				return &exitError{Code: ExitFailure}
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
			m := buildkitd.New(g.Root, buildkitd.WithLogger(g.log))
			stopped, err := m.Stop(cmd.Context())
			if err != nil {
				return err
			}
			if stopped {
				fmt.Fprintln(g.stderr, "dplug: buildkitd stopped")
			} else {
				fmt.Fprintln(g.stderr, "dplug: buildkitd was not running")
			}
			return nil
		},
	}
}

// buildkitModule is the module whose buildkitd `dplug setup` builds.
const buildkitModule = "github.com/moby/buildkit"

func newSetupCmd(g *globalOptions) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Install what 'dplug build' needs: buildkitd (built from the pinned version) and check runc",
		Long:  help("buildkitd-setup"),
		Args:  withUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			if p, err := buildkitd.Runc(); err != nil {
				missing = append(missing, err.Error())
			} else {
				fmt.Fprintf(g.stderr, "runc: %s\n", p)
			}
			if p, err := buildkitd.Binary(g.Root); err == nil {
				fmt.Fprintf(g.stderr, "buildkitd: %s\n", p)
			} else if check {
				missing = append(missing, err.Error())
			} else {
				p, err := installBuildkitd(cmd, g)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.stderr, "buildkitd: installed %s\n", p)
			}
			if len(missing) > 0 {
				return &exitError{Code: ExitFailure, Err: fmt.Errorf("%s", strings.Join(missing, "; "))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "only check, install nothing")
	return cmd
}

// installBuildkitd runs `go build` of the pinned buildkitd into ROOT/bin.
func installBuildkitd(cmd *cobra.Command, g *globalOptions) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building buildkitd needs the Go toolchain (https://go.dev/dl) or install buildkitd %s on PATH yourself", buildkitVersion())
	}
	dst := buildkitd.BinPath(g.Root)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	version := buildkitVersion()
	// A throwaway module pins the version; building inside dplug's own
	// module (a source checkout) would use its go.mod instead.
	dir, err := os.MkdirTemp("", "dplug-setup-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	run := func(args ...string) error {
		c := exec.CommandContext(cmd.Context(), goBin, args...)
		c.Dir = dir
		c.Stdout, c.Stderr = g.stderr, g.stderr
		c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		fmt.Fprintf(g.stderr, "+ go %s\n", strings.Join(args, " "))
		if err := c.Run(); err != nil {
			return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	if err := run("mod", "init", "dplug-setup"); err != nil {
		return "", err
	}
	if err := run("get", buildkitModule+"/cmd/buildkitd@"+version); err != nil {
		return "", err
	}
	if err := run("build", "-trimpath", "-ldflags", "-X "+buildkitModule+"/version.Version="+version,
		"-o", dst, buildkitModule+"/cmd/buildkitd"); err != nil {
		return "", err
	}
	return dst, nil
}

// buildkitVersion is the BuildKit version this dplug binary was built
// with (its client speaks to that daemon best).
func buildkitVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == buildkitModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "v0.34.2"
}
