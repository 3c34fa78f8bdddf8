package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// PluginRuntimeDir is where dockerd keeps each enabled plugin's socket, in
// <dir>/<plugin id>/: every engine version hard-codes it, whatever its
// --exec-root, and bind-mounts <id>/ at /run/docker/plugins in the plugin.
const PluginRuntimeDir = "/run/docker/plugins"

// ErrSocketUnreachable says this process cannot dial the engine's plugin
// socket: the engine is on another machine (ssh://, tcp://, a VM such as
// Docker Desktop's), or its runtime dir is root's only (mode 0700).
var ErrSocketUnreachable = errors.New("the plugin's socket is not reachable from here")

// PluginSocket returns the host path of the socket an enabled plugin
// serves the engine on, and the plugin's interface types, when this
// process can dial it: the engine is on this machine, and the process may
// enter PluginRuntimeDir (root). Otherwise the error wraps
// ErrSocketUnreachable and says why.
func (e *Engine) PluginSocket(ctx context.Context, name string) (string, []string, error) {
	name, err := Name(name)
	if err != nil {
		return "", nil, err
	}
	got, err := e.API.PluginInspect(ctx, name, client.PluginInspectOptions{})
	if err != nil {
		return "", nil, fmt.Errorf("inspecting %s: %w", name, err)
	}
	p := got.Plugin
	if !p.Enabled {
		return "", nil, fmt.Errorf("%s is not enabled", name)
	}
	var types []string
	for _, t := range p.Config.Interface.Types {
		types = append(types, t.String())
	}
	if !strings.HasPrefix(e.Endpoint.Host, "unix://") {
		return "", types, fmt.Errorf("%w: the engine at %s is on another machine", ErrSocketUnreachable, e.Endpoint.Host)
	}
	// The id is random per create: a dir of that name is this engine's.
	sock := path.Join(PluginRuntimeDir, p.ID, p.Config.Interface.Socket)
	if _, err := os.Stat(sock); err != nil {
		why := err.Error()
		switch {
		case errors.Is(err, fs.ErrPermission):
			why = "only root may enter " + PluginRuntimeDir
		case errors.Is(err, fs.ErrNotExist):
			why = "the engine's plugins run on another machine or in a VM (no " + path.Join(PluginRuntimeDir, p.ID) + " here)"
		}
		return "", types, fmt.Errorf("%w: %s", ErrSocketUnreachable, why)
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return "", types, fmt.Errorf("%w: %v", ErrSocketUnreachable, err)
	}
	conn.Close()
	return sock, types, nil
}

// Remove disables and removes the plugin name from the engine, even while
// it is enabled or in use (the engine's force), as `docker plugin rm -f`.
// A plugin that is not there is not an error.
func (e *Engine) Remove(ctx context.Context, name string) error {
	name, err := Name(name)
	if err != nil {
		return err
	}
	if _, err := e.API.PluginRemove(ctx, name, client.PluginRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing %s from the Docker Engine: %w", name, err)
	}
	return nil
}
