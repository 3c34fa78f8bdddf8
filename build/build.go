package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client"
	// BuildKit's connection helpers register the docker-container://,
	// kube-pod:// and ssh:// address schemes with client.New.
	"github.com/moby/buildkit/client/connhelper"
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
	"github.com/sirupsen/logrus"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/validate"
)

// quietLogrus silences logrus' global logger unless log shows debug
// records: containerd's content store (used for oci-layout:// contexts)
// logs harmless warnings through it, which only a debugging user wants.
func quietLogrus(ctx context.Context, log *slog.Logger) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		logrus.SetOutput(io.Discard)
	}
}

// Result describes a finished build.
type Result struct {
	Output string        `json:"output"` // what the Dest returned: a path, ref@digest, plugin name
	Dest   string        `json:"dest"`   // the Dest, e.g. "directory /tmp/p"
	Addr   string        `json:"addr"`   // the BuildKit address used
	Steps  []Step        `json:"steps"`  // BuildKit's vertices and whether each was cached
	Took   time.Duration `json:"took"`
	// Warnings about the inputs, e.g. a build arg no ARG consumes; also
	// written to the progress writer.
	Warnings []string `json:"warnings,omitempty"`
}

// Write prints r on w: as indented JSON with asJSON, else its Output.
func (r *Result) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprintln(w, r.Output)
	return err
}

// Run builds the Dockerfile in contextDir into a plugin and delivers it to
// dest. The config file is checked first; the rootfs is staged and only
// handed to dest after a successful solve, so a failure or a canceled ctx
// leaves nothing behind. Unless its logger (WithLogger) shows debug
// records, Run silences logrus' global logger for the process (quietLogrus).
func Run(ctx context.Context, contextDir string, to dest.Dest, opts ...Option) (*Result, error) {
	start := time.Now()
	o := makeOptions(contextDir, opts)
	quietLogrus(ctx, o.log)
	plats, err := normalizePlatforms(o.platforms)
	if err != nil {
		return nil, err
	}
	o.platforms = plats
	if _, ok := to.(dest.MultiDest); len(plats) > 1 && !ok {
		return nil, fmt.Errorf("building for %d platforms: %s takes one platform (use a directory, an OCI layout or a registry)", len(plats), to)
	}
	if fi, err := os.Stat(contextDir); errors.Is(err, os.ErrNotExist) {
		return nil, &InputError{fmt.Errorf("build context %s: no such directory", contextDir)}
	} else if err != nil {
		return nil, &InputError{fmt.Errorf("reading build context: %w", err)}
	} else if !fi.IsDir() {
		return nil, &InputError{fmt.Errorf("reading build context: %s is not a directory", contextDir)}
	}

	// 1. The config, before anything expensive.
	cfg, err := os.ReadFile(o.configFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &InputError{fmt.Errorf("no plugin config at %s: a plugin needs a config.json (give --config PATH, or start from `dplug init`)", o.configFile)}
	} else if err != nil {
		return nil, &InputError{fmt.Errorf("reading plugin config: %w", err)}
	}
	check := o.validator
	if check == nil {
		check = validateConfig(&o)
	}
	if err := check(o.configFile, cfg); err != nil {
		return nil, err
	}
	var warnings []string
	for _, w := range contextPlatformWarnings(&o, plats) {
		warnings = append(warnings, w)
		fmt.Fprintln(o.progressOut, w)
	}
	if df, err := os.ReadFile(o.dockerfile); err == nil {
		if unused := unusedBuildArgs(df, o.buildArgs, o.target); len(unused) > 0 {
			w := unusedArgsWarning(unused, o.dockerfile)
			warnings = append(warnings, w)
			fmt.Fprintln(o.progressOut, w)
		}
	}
	disp, err := newDisplay(o.progress, o.progressOut)
	if err != nil {
		return nil, err
	}
	// One display for BuildKit's vertices and dplug's own steps; it is
	// closed (and shows its summary) when Run returns.
	tr := newTracker()
	displayCh := make(chan *client.SolveStatus)
	displayDone := make(chan struct{})
	go func() {
		if err := display(disp, displayCh, tr); err != nil {
			o.log.Debug("progress display", "err", err)
		}
		close(displayDone)
	}()
	defer func() {
		close(displayCh)
		<-displayDone
	}()
	st := &steps{ch: displayCh}
	st.start("[dplug] validated " + filepath.Base(o.configFile)).done(nil)

	// 2. Staging: PARENT/.dplug-build-XXXX/{config.json,rootfs/}.
	parent := os.TempDir()
	var reuse *reuse
	if _, ok := to.(*dest.Registry); ok {
		reuse = newReuse(contextDir, &o, len(plats) <= 1)
	}
	if reuse != nil {
		// Beside the kept rootfs, so that it can be moved there; a root
		// this user cannot write only means no reuse.
		if err := os.MkdirAll(reuse.parent, 0o700); err != nil {
			o.log.Debug("build reuse: no place for the rootfs", "err", err)
			reuse = nil
		} else {
			parent = reuse.parent
		}
	}
	if s, ok := to.(dest.Stager); ok && reuse == nil && s.StagingParent() != "" {
		parent = s.StagingParent()
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", parent, err)
		}
	}
	staging, err := os.MkdirTemp(parent, ".dplug-build-")
	if err != nil {
		return nil, fmt.Errorf("creating staging dir: %w", err)
	}
	defer os.RemoveAll(staging)
	rootfs := filepath.Join(staging, "rootfs")
	so, err := solveOpt(contextDir, &o)
	if err != nil {
		return nil, err
	}

	// 3. BuildKit.
	c, addr, logFile, release, err := connect(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer release()
	defer c.Close()

	solveErr := solve(ctx, c, so, &o, rootfs, reuse, func(s *client.SolveStatus) { displayCh <- s }, stallHint(addr, logFile, staging))
	if solveErr != nil {
		var stall *StallError
		if errors.As(solveErr, &stall) {
			return nil, solveErr
		}
		if cause, ok := unreachable(solveErr); ok && ctx.Err() == nil {
			return nil, fmt.Errorf("%w at %s: %s (check --addr and BUILDKIT_HOST, or unset both and dplug starts its own buildkitd)", ErrUnreachable, addr, cause)
		}
		return nil, explainExecFormat(explain(ctx, solveErr, tr, o.dockerfile))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build canceled: %w", err)
	}

	// 4. The plugin dir(s), then the destination.
	if len(plats) > 1 {
		dirs, err := splitPlatforms(staging, rootfs, plats, cfg)
		if err != nil {
			return nil, err
		}
		if err := checkPlatforms(st, cfg, dirs, o.progressOut); err != nil {
			return nil, err
		}
		out, err := dest.WithProgress(to, st).(dest.MultiDest).DeliverAll(ctx, dirs)
		if err != nil {
			return nil, err
		}
		return &Result{Output: out, Dest: to.String(), Addr: addr, Steps: tr.Steps(), Took: time.Since(start), Warnings: warnings}, nil
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(staging, "config.json"), cfg, 0o644); err != nil {
		return nil, fmt.Errorf("writing config.json: %w", err)
	}
	pluginDir := staging
	if reuse != nil && reuse.hit {
		step := st.start("[dplug] reuse the rootfs of the last build (nothing changed)")
		pluginDir, err = reuse.plugin(cfg)
		step.done(err)
		if err != nil {
			return nil, err
		}
	}
	// The platform asked for is recorded in an OCI layout.
	var plat, asked string
	if len(plats) == 1 {
		plat, asked = plats[0], plats[0]
	} else if reuse != nil && reuse.platform != "" {
		plat = reuse.platform
	} else {
		plat = workerPlatform(ctx, c)
	}
	if err := checkPlatforms(st, cfg, []dest.PlatformDir{{Platform: plat, Dir: pluginDir}}, o.progressOut); err != nil {
		return nil, err
	}
	// Private while it was being written; a plugin dir like any other now.
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, err
	}
	src, err := dest.Staged(ctx, pluginDir, asked)
	if err != nil {
		return nil, err
	}
	out, err := dest.WithProgress(to, st).Deliver(ctx, src)
	if err != nil {
		return nil, err
	}
	if reuse != nil && !reuse.hit {
		if err := reuse.record(staging); err != nil {
			o.log.Debug("build reuse: rootfs not kept", "err", err)
		}
	}
	return &Result{Output: out, Dest: to.String(), Addr: addr, Steps: tr.Steps(), Took: time.Since(start), Warnings: warnings}, nil
}

// stallHint says what to do about a stalled export.
func stallHint(addr, logFile, staging string) func(phase string) string {
	return func(phase string) string {
		where := "BuildKit's log at " + addr
		if logFile != "" {
			where = "BuildKit's log (" + logFile + ")"
		}
		switch phase {
		case PhaseWrite:
			return fmt.Sprintf("dplug could not write the files it received into %s: check that file system (full? a hung mount?), then build again", staging)
		case PhaseFinish:
			return fmt.Sprintf("BuildKit sent the whole rootfs but never ended the build; build again (finished steps come from the cache), and if it recurs look at %s", where)
		}
		return fmt.Sprintf("BuildKit stopped sending; build again (finished steps come from the cache); if it recurs look at %s, and with a remote BuildKit on a slow link raise --export-timeout", where)
	}
}

// checkAddr refuses a BuildKit address whose scheme neither the client
// (unix, tcp) nor a registered connection helper understands, instead of
// letting the dialer fail with an unrelated "unknown port".
func checkAddr(addr string) error {
	if addr == "" {
		return nil
	}
	u, err := url.Parse(addr)
	if err != nil {
		return &InputError{Err: fmt.Errorf("BuildKit address %q: %w", addr, err)}
	}
	switch u.Scheme {
	case "unix", "tcp":
		return nil
	}
	if h, err := connhelper.GetConnectionHelper(addr); err != nil {
		return &InputError{Err: fmt.Errorf("BuildKit address %q: %w", addr, err)}
	} else if h == nil {
		return &InputError{Err: fmt.Errorf("BuildKit address %q: unknown scheme %q: use unix://PATH, tcp://HOST:PORT, docker-container://NAME, kube-pod://POD or ssh://HOST", addr, u.Scheme)}
	}
	return nil
}

// connect dials the configured BuildKit, or starts/reuses dplug's own; call
// release when done with it.
func connect(ctx context.Context, o *options) (c *client.Client, addr, logFile string, release func(), err error) {
	addr, release = o.addr, func() {}
	if err := checkAddr(addr); err != nil {
		return nil, "", "", nil, err
	}
	kind, eng, err := pickBuilder(ctx, o)
	if err != nil {
		return nil, "", "", nil, err
	}
	if kind != "" {
		addr = "" // a forced builder wins over BUILDKIT_HOST
	}
	if eng != nil {
		return connectEngine(ctx, eng, o)
	}
	if addr == "" {
		m := buildkitd.New(o.root, append([]buildkitd.Option{buildkitd.WithLogger(o.log)}, o.daemonOpts...)...)
		if release, err = m.Use(ctx); err != nil {
			return nil, "", "", nil, err
		}
		a, started, err := m.Ensure(ctx)
		if err != nil {
			release()
			return nil, "", "", nil, fmt.Errorf("starting dplug's buildkitd: %w", err)
		}
		addr, logFile = a, m.LogFile()
		if o.progress != "quiet" {
			if started {
				fmt.Fprintf(o.progressOut, "dplug: started buildkitd at %s (state %s); later builds reuse it, `dplug buildkitd stop` stops it\n", addr, m.StateDir())
			} else {
				fmt.Fprintf(o.progressOut, "dplug: using dplug's buildkitd at %s\n", addr)
			}
		}
	}
	var copts []client.ClientOpt
	if o.tlsCA != "" || o.tlsCert != "" {
		server := ""
		if u, err := url.Parse(addr); err == nil {
			server = u.Hostname()
		}
		if o.tlsCA != "" {
			copts = append(copts, client.WithServerConfig(server, o.tlsCA))
		} else {
			copts = append(copts, client.WithServerConfigSystem(server))
		}
		if o.tlsCert != "" {
			copts = append(copts, client.WithCredentials(o.tlsCert, o.tlsKey))
		}
	}
	c, err = client.New(ctx, addr, copts...)
	if err != nil {
		release()
		return nil, "", "", nil, fmt.Errorf("connecting to BuildKit at %s: %w", addr, err)
	}
	return c, addr, logFile, release, nil
}

// validateConfig is the default Validator: package validate's rules.
func validateConfig(o *options) Validator {
	return func(file string, data []byte) error {
		diags := validate.Bytes(file, data, validate.WithKind(validate.KindConfig))
		_, warnings := validate.Split(diags)
		for _, d := range warnings {
			fmt.Fprintln(o.progressOut, d.String())
		}
		return validate.NewConfigError(file, diags)
	}
}
