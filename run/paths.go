package run

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dplug/dplug/internal/safepath"
)

// runtimeDir is where the plugin finds its socket directory, as with dockerd.
const runtimeDir = "/run/docker/plugins"

// ErrSocketOutside: the config's interface.socket names a path outside the
// plugin's socket directory (absolute, or climbing out with ..), or the
// socket found there is not a socket inside that directory (a symlink).
// dplug never dials such a socket: it could be any socket of the host.
var ErrSocketOutside = errors.New("interface.socket is outside the plugin's socket dir")

// inside joins the relative path rel onto dir and fails unless the result
// stays below dir, through internal/safepath (the one helper that proves a
// path built from stored or received data lies under its root): rel must
// be relative, no ".." may climb above dir, and no existing symlink on the
// way may lead out. rel is cleaned first, as dockerd's dial would resolve
// it ("sub/../p.sock" is "p.sock"). Callers that open the result still
// refuse a symlink put there later.
func inside(dir, rel string) (string, error) {
	if strings.IndexByte(rel, 0) >= 0 {
		return "", fmt.Errorf("%q has a NUL byte", rel)
	}
	if rel != "" && !filepath.IsAbs(rel) {
		rel = filepath.Clean(rel)
	}
	p, err := safepath.Join(dir, rel)
	var se *safepath.Error
	if errors.As(err, &se) {
		return "", fmt.Errorf("%q %s", rel, strings.TrimPrefix(se.Reason, "the name "))
	}
	return p, err
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

// runDir is the run directory of the plugin with the given ID: one
// directory directly below the run root, named by runDirName. An ID that
// would name the run root itself or its parent ("." or "..", from a
// damaged inventory) is refused: Start and Stop remove run dirs.
func runDir(runRoot, id string) (string, error) {
	name := runDirName(id)
	p, err := inside(runRoot, name)
	if err != nil || filepath.Dir(p) != filepath.Clean(runRoot) {
		return "", fmt.Errorf("invalid plugin ID %q: it does not name a directory below %s", id, runRoot)
	}
	return p, nil
}

// runDirName names a plugin's run dir after the first 12 characters of its
// ID, like docker's short IDs, so that the host socket path,
// <run root>/<short id>/sock/<socket>, stays well inside the 107 bytes of a
// unix socket address even under /var/lib/dplug/run. The record inside
// holds the full ID.
func runDirName(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
