package run

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// runtimeDir is where the plugin finds its socket directory, as with dockerd.
const runtimeDir = "/run/docker/plugins"

// ErrSocketOutside: the config's interface.socket names a path outside the
// plugin's socket directory (absolute, or climbing out with ..), or the
// socket found there is not a socket inside that directory (a symlink).
// dplug never dials such a socket: it could be any socket of the host.
var ErrSocketOutside = errors.New("interface.socket is outside the plugin's socket dir")

// inside joins the relative path rel onto dir and fails unless the result
// stays below dir: rel must be relative, and no ".." may climb above dir.
// It checks the words, not the filesystem: callers that open the result
// refuse symlinks themselves. It is the one place that proves a path
// built from a config value stays in its directory (meant to become
// internal/safepath.Join).
func inside(dir, rel string) (string, error) {
	if rel == "" {
		return "", errors.New("empty path")
	}
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%q is absolute", rel)
	}
	if strings.IndexByte(rel, 0) >= 0 {
		return "", fmt.Errorf("%q has a NUL byte", rel)
	}
	clean := filepath.Clean(rel)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q climbs out of its directory", rel)
	}
	return filepath.Join(dir, clean), nil
}

// socketPath is the host path of the plugin's socket: interface.socket
// inside the socket dir, which the plugin sees at /run/docker/plugins.
func socketPath(sockDir, socket string) (string, error) {
	p, err := inside(sockDir, socket)
	if err != nil {
		return "", fmt.Errorf("%w: %v; it must name a socket inside %s, such as \"plugin.sock\" (fix interface.socket in config.json)", ErrSocketOutside, err, runtimeDir)
	}
	return p, nil
}
