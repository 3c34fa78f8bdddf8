package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Dest receives a built plugin.
type Dest interface {
	// Deliver takes a complete plugin directory (config.json + rootfs/) that
	// Run staged, and returns what identifies the result (a path, a
	// reference with digest, a plugin name). Deliver may move dir away; Run
	// removes whatever is left of it afterwards.
	Deliver(ctx context.Context, dir string) (string, error)
	// String names the destination in messages.
	String() string
}

// Stager is implemented by destinations that want the plugin staged in a
// particular directory, e.g. next to the final path so a rename is atomic.
type Stager interface {
	StagingParent() string
}

// Dir writes the plugin as a directory: Path/config.json + Path/rootfs/,
// what `docker plugin create NAME Path` reads. An existing plugin directory
// at Path is replaced atomically; anything else there is an error.
type Dir struct {
	Path string
}

var (
	_ Dest   = (*Dir)(nil)
	_ Stager = (*Dir)(nil)
)

func (d *Dir) String() string { return "directory " + d.Path }

// StagingParent stages next to Path, on the same file system.
func (d *Dir) StagingParent() string { return filepath.Dir(filepath.Clean(d.Path)) }

// Deliver renames dir to Path.
func (d *Dir) Deliver(ctx context.Context, dir string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	path := filepath.Clean(d.Path)
	var old string
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("reading %s: %w", path, err)
	case len(entries) == 0:
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("replacing %s: %w", path, err)
		}
	default:
		if !isPluginDir(entries) {
			return "", fmt.Errorf("writing plugin to %s: it exists and is not a plugin directory (config.json + rootfs/)", path)
		}
		old = dir + ".old"
		if err := os.Rename(path, old); err != nil {
			return "", fmt.Errorf("replacing %s: %w", path, err)
		}
	}
	if err := os.Rename(dir, path); err != nil {
		if old != "" {
			_ = os.Rename(old, path)
		}
		return "", fmt.Errorf("writing plugin to %s: %w", path, err)
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}

// isPluginDir reports whether a directory listing is that of a plugin dir:
// only config.json and rootfs.
func isPluginDir(entries []os.DirEntry) bool {
	for _, e := range entries {
		switch e.Name() {
		case "config.json", "rootfs":
		default:
			return false
		}
	}
	return true
}
