package dev

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
)

// staging is the build step Local and Docker share: the project built
// into a plugin dir under a temporary dir kept across iterations (a
// failed build leaves the last good one in place).
type staging struct {
	dir string // "" until the first build
}

// pluginDir is the staged plugin dir (config.json + rootfs/).
func (s *staging) pluginDir() string { return filepath.Join(s.dir, "plugin") }

// build builds the project in dir into the staged plugin dir.
func (s *staging) build(ctx context.Context, dir string, opts []build.Option) (string, error) {
	if s.dir == "" {
		tmp, err := os.MkdirTemp("", "dplug-dev-")
		if err != nil {
			return "", err
		}
		s.dir = tmp
	}
	_, err := build.Run(ctx, dir, &dest.Dir{Path: s.pluginDir()}, opts...)
	return "", err
}

// remove removes the staged build.
func (s *staging) remove() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// orStderr is w, or stderr when w is nil (the sessions' default Out).
func orStderr(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}
