package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dplug/dplug/probe"
	"github.com/dplug/dplug/run"
	"github.com/dplug/dplug/source"
)

// startOptions are the flags `run` and `test` share.
type startOptions struct {
	timeout time.Duration
	grace   time.Duration
}

func (o *startOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&o.timeout, "timeout", run.DefaultTimeout, "how long to wait for the plugin's socket to accept a connection")
	addGrace(f, &o.grace)
}

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
		Long: `Run starts the plugin NAME from the store (or the plugin directory DIR:
config.json + rootfs/) the way dockerd enables it: same namespaces,
capabilities, mounts and devices, its socket directory bind-mounted at
/run/docker/plugins. dplug waits until the socket accepts a connection (all
dockerd waits for), checks the answer to /Plugin.Activate if the plugin gives
one, prints the socket's host path on stdout and streams the plugin's output
on stderr. Ctrl-C or SIGTERM stops it (SIGTERM, --grace, SIGKILL) and removes
every mount, cgroup and state directory the run made.

The plugin runs on an overlay of its rootfs: nothing the run writes stays
in the installed plugin. A bind mount whose source is empty gets an empty
dir of the run's own, as with dockerd (never the current directory), and
interface.socket must name a socket inside /run/docker/plugins.

With --detach dplug returns once the plugin is ready and leaves it running;
'dplug logs' shows its output and 'dplug stop' ends it. If dplug itself is
killed, 'dplug doctor --fix' stops and removes the run. Needs Linux and root.`,
		Example: `  dplug run vieux/sshfs
  sock=$(dplug run --detach ./myplugin) && curl --unix-socket "$sock" -XPOST http://p/VolumeDriver.List
  dplug stop ./myplugin`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), g, &o, args[0])
		},
	}
	o.bind(cmd)
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "leave the plugin running in the background once it is ready")
	return cmd
}

// resolvePlugin finds what to run: a plugin directory when arg is one,
// otherwise the plugin called arg in the store.
func resolvePlugin(ctx context.Context, g *globalOptions, arg string, opts ...source.Option) (run.Plugin, error) {
	src, err := openSource(ctx, g, arg, append([]source.Option{source.WithKinds(source.Dir | source.Installed)}, opts...)...)
	if err != nil {
		return run.Plugin{}, err
	}
	if p := src.Stored; p != nil {
		return run.Plugin{ID: p.ID, Name: p.FullName(), Rootfs: p.Rootfs(), Config: p.Config, Settings: p.Settings}, nil
	}
	// A directory has no store ID: derive a stable one from its path.
	dir := filepath.Dir(src.Rootfs)
	sum := sha256.Sum256([]byte(dir))
	return run.Plugin{ID: hex.EncodeToString(sum[:]), Name: filepath.Base(dir), Rootfs: src.Rootfs,
		Config: *src.Config, Settings: src.Config.DefaultSettings()}, nil
}

func runRoot(g *globalOptions) string { return filepath.Join(g.Root, "run") }

// start resolves and starts the plugin, with its output streamed to w
// (nil: to its log file only) and the activation handshake checked; a
// wrong Implements is reported on msgs.
func start(ctx context.Context, g *globalOptions, o *startOptions, arg string, w, msgs io.Writer) (*run.Instance, run.Plugin, error) {
	if runtime.GOOS != "linux" {
		return nil, run.Plugin{}, fmt.Errorf("%w (this is %s): 'dplug load' tries a plugin in a Docker Engine from here", run.ErrUnsupported, runtime.GOOS)
	}
	p, err := resolvePlugin(ctx, g, arg)
	if err != nil {
		return nil, p, err
	}
	opts := []run.Option{run.WithRunRoot(runRoot(g)), run.WithTimeout(o.timeout), run.WithLogger(g.log)}
	if w != nil {
		pw := newPrefixWriter(w, shortName(p.Name)+" | ")
		opts = append(opts, run.WithStdout(pw), run.WithStderr(pw))
	}
	inst, err := run.Start(ctx, p, opts...)
	if err != nil {
		return nil, p, explainExecFormat(err, p.Rootfs, &p.Config)
	}
	if len(inst.Socket()) > 107 {
		g.log.Warn("the socket's host path is longer than a unix socket address: clients other than dplug need a shorter --root", "socket", inst.Socket())
	}
	// The plugin owns its socket dir: never dial a symlink it put there.
	pinned, release, err := inst.PinSocket()
	if err != nil {
		_ = inst.Stop(context.WithoutCancel(ctx), 0)
		return nil, p, err
	}
	defer release()
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	impl, err := probe.Activate(actx, pinned)
	switch {
	case err != nil:
		g.log.Debug("plugin does not answer /Plugin.Activate (dockerd does not need it for v2 plugins)", "err", err)
	default:
		if missing := probe.MissingImplements(p.Config.Interface.Types, impl); len(missing) > 0 {
			fmt.Fprintf(msgs, "dplug: warning: %s declares %s but its /Plugin.Activate answer implements %v: missing %s\n",
				p.Name, strings.Join(p.Config.Interface.Types, ", "), impl, strings.Join(missing, ", "))
		}
	}
	return inst, p, nil
}

func shortName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func runRun(ctx context.Context, g *globalOptions, o *runOptions, arg string) error {
	// The plugin's output and dplug's own messages share stderr.
	errw := &syncWriter{w: g.stderr}
	var w io.Writer = errw
	if o.detach {
		w = nil
	}
	inst, p, err := start(ctx, g, &o.startOptions, arg, w, errw)
	if err != nil {
		return err
	}
	if o.detach {
		// From now on the run outlives this process; until then doctor
		// counts it as a leftover once this process is gone.
		if err := inst.Detach(); err != nil {
			_ = inst.Stop(context.WithoutCancel(ctx), 0)
			return err
		}
	}
	if g.outputJSON() {
		_ = json.NewEncoder(g.stdout).Encode(struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Socket string `json:"socket"`
			Pid    int    `json:"pid"`
			Log    string `json:"log"`
		}{p.ID, p.Name, inst.Socket(), inst.Pid(), inst.LogPath()})
	} else {
		fmt.Fprintln(g.stdout, inst.Socket())
	}
	if o.detach {
		return nil
	}
	fmt.Fprintf(errw, "dplug: %s is ready; Ctrl-C stops it\n", p.Name)
	select {
	case <-ctx.Done():
		fmt.Fprintf(errw, "dplug: stopping %s\n", p.Name)
		if err := inst.Stop(context.WithoutCancel(ctx), o.grace); err != nil {
			return err
		}
		return nil
	case <-inst.Done():
		code := inst.ExitCode()
		tail := inst.LastLines(10)
		if err := inst.Stop(context.WithoutCancel(ctx), 0); err != nil {
			g.log.Warn("cleaning up", "err", err)
		}
		return &exitError{Code: ExitFailure, Err: fmt.Errorf("plugin %s exited with code %d; last output:\n    %s", p.Name, code, strings.Join(tail, "\n    "))}
	}
}

// doctorRuns is doctor's part for runs: the runs under ROOT/run that
// nobody will stop (a foreground `dplug run` killed, a detached plugin that
// exited), stopped and removed with fix. printRunLeftovers says what was
// found.
func doctorRuns(ctx context.Context, g *globalOptions, fix bool) ([]run.Leftover, error) {
	runs, err := run.Doctor(ctx, fix, run.WithRunRoot(runRoot(g)), run.WithLogger(g.log))
	if errors.Is(err, os.ErrPermission) && len(runs) == 0 {
		g.log.Warn("cannot check the runs of this store: that needs the user that ran them (root)", "err", err)
		return nil, nil
	}
	if err != nil {
		return runs, fmt.Errorf("checking runs under %s: %w", runRoot(g), err)
	}
	return runs, nil
}

func printRunLeftovers(w io.Writer, runs []run.Leftover) {
	for _, l := range runs {
		what := l.Name
		if what == "" {
			what = l.Dir
		}
		verb := "found"
		if l.Fixed {
			verb = "stopped and removed"
		}
		fmt.Fprintf(w, "%s leftover run of %s: %s\n", verb, what, l.Reason)
	}
}

func newStopCmd(g *globalOptions) *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "stop NAME|DIR",
		Short: "Stop a plugin started with 'dplug run --detach' and remove what its run made",
		Long: `Stop sends the plugin SIGTERM, waits up to --grace, sends SIGKILL, then removes
its cgroups, mounts and run directory. Stopping a plugin that already exited
cleans up after it.`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			inst, err := loadRun(g, args[0], "")
			if err != nil {
				return err
			}
			return inst.Stop(cmd.Context(), grace)
		},
	}
	addGrace(cmd.Flags(), &grace)
	return cmd
}

func newLogsCmd(g *globalOptions) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME|DIR",
		Short: "Print the output of a plugin started with 'dplug run --detach'",
		Args:  withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			inst, err := loadRun(g, args[0], " (its log goes when it is stopped)")
			if err != nil {
				return err
			}
			return copyLog(cmd.Context(), g.stdout, inst, follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output until the plugin exits or Ctrl-C")
	return cmd
}

// loadRun finds the run of the plugin NAME|DIR started by another dplug
// process; a plugin that is not running is a failure (exit 1) whose message
// ends with note.
func loadRun(g *globalOptions, arg, note string) (*run.Instance, error) {
	p, err := resolvePlugin(context.Background(), g, arg, source.Unchecked())
	if err != nil {
		return nil, err
	}
	inst, err := run.Load(p.ID, run.WithRunRoot(runRoot(g)), run.WithLogger(g.log))
	if errors.Is(err, run.ErrNotRunning) {
		return nil, &exitError{Code: ExitFailure, Err: fmt.Errorf("%s is not running%s", p.Name, note)}
	}
	return inst, err
}

// copyLog copies the run's log to w, then, when following, what the plugin
// writes next until it exits or ctx ends.
func copyLog(ctx context.Context, w io.Writer, inst *run.Instance, follow bool) error {
	f, err := os.Open(inst.LogPath())
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		if !follow {
			return nil
		}
		if !inst.Running() {
			_, err := io.Copy(w, f)
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

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
		Use:   "test NAME|DIR",
		Short: "Start a plugin and probe each interface it declares the way dockerd uses it",
		Long: `Test starts the plugin like 'dplug run', then sends the requests dockerd
sends for each interface type its config declares, in dockerd's order
(volume: Get, Create, List, Mount, Path, Unmount, Remove; network; IPAM;
authz; log; metrics), and judges the answers as dockerd reads them.

Each check is required or advisory. A required check tests what dockerd
relies on: if it fails, the plugin fails in dockerd too, and the check FAILs.
An advisory check tests a convention dockerd does not depend on (refusing a
malformed body, the optional Capabilities, /Plugin.Activate): it WARNs, and
FAILs only with --strict. A check whose prerequisite failed (everything after
a failed Create, say) is SKIPPED with the cause, not failed.

--opt KEY=VALUE (repeatable) passes driver options where dockerd passes the
user's: a volume's Opts (docker volume create -o), a network's generic
options (docker network create -o), an IPAM pool's options (--ipam-opt).
--ipam-subnet and --ipam-ip request an explicit pool and endpoint address
(docker network create --subnet, docker run --ip). An authorization plugin
gets a ping and a container create with a JSON body; its allow or deny is
reported, a deny is a result, not a failure. A log driver's FIFO is made in
the running plugin's root (an overlay), never in the installed rootfs.

It prints one line per check (or the report as JSON with --output json,
each check with its kind, status and reason), stops the plugin and exits 1
if any check failed.`,
		Example: `  dplug test ./myvolume
  dplug test vieux/sshfs --opt sshcmd=user@host:/path --opt password=secret
  dplug test my/ipam --ipam-subnet 10.20.0.0/24 --ipam-ip 10.20.0.5
  dplug test --strict -o json my/plugin`,
		Args: withUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTest(cmd.Context(), g, &o, args[0])
		},
	}
	o.bind(cmd)
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
	errw := &syncWriter{w: g.stderr}
	// The plugin's output goes to its log (the report quotes its tail if it
	// dies); with --debug (or from dplug dev) it is shown live too.
	var w io.Writer
	if g.Debug || o.logs {
		w = errw
	}
	inst, p, err := start(ctx, g, &o.startOptions, arg, w, errw)
	if err != nil {
		return err
	}
	// The log driver probes make their FIFO in the root the plugin runs on,
	// as dockerd does; only ever in the run's overlay, never in the
	// installed rootfs (without an overlay they are skipped).
	if root := inst.Rootfs(); root != "" {
		popts = append(popts, probe.WithRootfs(root))
	}
	// Probe through a pinned path to the socket checked now, so that a
	// symlink the plugin puts in its place later is never followed to a
	// socket of the host.
	sock, release, err := inst.PinSocket()
	if err != nil {
		_ = inst.Stop(context.WithoutCancel(ctx), 0)
		return err
	}
	rep := probe.Run(ctx, sock, p.Config.Interface.Types, popts...)
	release()
	rep.Socket = inst.Socket()
	rep.Checks = append(rep.Checks, aliveCheck(inst, rep.Failed() > 0))
	stopErr := inst.Stop(context.WithoutCancel(ctx), o.grace)
	if err := printTestReport(g, p.Name, rep); err != nil {
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

// aliveCheck is the last check of `dplug test`: the plugin is still
// running after the probes. Required: dockerd restarts a managed plugin
// that exits, but every call in flight fails.
func aliveCheck(inst *run.Instance, failures bool) probe.Check {
	if failures {
		// Failures may come from a plugin that just died: give its exit
		// a moment to be noticed.
		select {
		case <-inst.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	alive := probe.Check{Interface: "Plugin", Method: "(process)", Name: "plugin still running after the probes",
		Kind: probe.Required, Status: probe.StatusPass}
	if !inst.Running() {
		alive.Status = probe.StatusFail
		alive.Reason = fmt.Sprintf("exited with code %d; last output: %s", inst.ExitCode(), strings.Join(inst.LastLines(5), " ⏎ "))
	}
	return alive
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

// prefixWriter writes each line with a prefix; it is safe for the plugin's
// stdout and stderr to share one.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	midln  bool
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	return &prefixWriter{w: w, prefix: prefix}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var buf bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !p.midln {
			buf.WriteString(p.prefix)
		}
		buf.Write(line)
		p.midln = line[len(line)-1] != '\n'
	}
	if _, err := p.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
