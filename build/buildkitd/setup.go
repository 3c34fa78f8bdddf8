package buildkitd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// module is the module whose buildkitd Install builds.
const module = "github.com/moby/buildkit"

// Version is the BuildKit version this binary was built with: its client
// speaks to that daemon best, so Install builds that one.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == module {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "v0.34.2"
}

// Setup is `dplug setup`: it finds runc and buildkitd and, unless check is
// set, builds a missing buildkitd with Install. It reports each program's
// path, and Install's go commands with their output, on w. The error names
// every program still missing.
func Setup(ctx context.Context, root string, check bool, w io.Writer) error {
	var missing []string
	if p, err := Runc(); err != nil {
		missing = append(missing, err.Error())
	} else {
		fmt.Fprintf(w, "runc: %s\n", p)
	}
	if p, err := Binary(root); err == nil {
		fmt.Fprintf(w, "buildkitd: %s\n", p)
	} else if check {
		missing = append(missing, err.Error())
	} else {
		p, err := Install(ctx, root, w)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "buildkitd: installed %s\n", p)
	}
	if len(missing) > 0 {
		return errors.New(strings.Join(missing, "; "))
	}
	return nil
}

// Install runs `go build` of buildkitd at Version() into BinPath(root) and
// returns that path; the go commands and their output go to w.
func Install(ctx context.Context, root string, w io.Writer) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("building buildkitd needs the Go toolchain (https://go.dev/dl) or install buildkitd %s on PATH yourself", Version())
	}
	dst := BinPath(root)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	// A throwaway module pins the version; building inside dplug's own
	// module (a source checkout) would use its go.mod instead.
	dir, err := os.MkdirTemp("", "dplug-setup-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	version := Version()
	for _, args := range [][]string{
		{"mod", "init", "dplug-setup"},
		{"get", module + "/cmd/buildkitd@" + version},
		{"build", "-trimpath", "-ldflags", "-X " + module + "/version.Version=" + version, "-o", dst, module + "/cmd/buildkitd"},
	} {
		c := exec.CommandContext(ctx, goBin, args...)
		c.Dir = dir
		c.Stdout, c.Stderr = w, w
		c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		fmt.Fprintf(w, "+ go %s\n", strings.Join(args, " "))
		if err := c.Run(); err != nil {
			return "", fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
	}
	return dst, nil
}

// Healthy reports whether the daemon runs and answers (dplug buildkitd
// status exits 1 when it does not).
func (s *Status) Healthy() bool { return s.Running && s.Answering }

// Write writes s on w as `dplug buildkitd status` prints it: one line of
// JSON with asJSON, else String.
func (s *Status) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(s)
	}
	_, err := fmt.Fprintln(w, s)
	return err
}

// String is the one line `dplug buildkitd status` prints.
func (s *Status) String() string {
	switch {
	case !s.Running:
		return fmt.Sprintf("not running (state %s)", s.StateDir)
	case !s.Answering:
		return fmt.Sprintf("pid %d does not answer on %s (log %s)", s.PID, s.Addr, s.LogFile)
	}
	return fmt.Sprintf("running: pid %d, %s, state %s, log %s", s.PID, s.Addr, s.StateDir, s.LogFile)
}
