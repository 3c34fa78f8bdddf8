package dest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// Dir writes the plugin as a directory: Path/config.json + Path/rootfs/,
// what `docker plugin create NAME Path` reads. A staged plugin (a build's)
// replaces an existing plugin directory at Path atomically; anything else
// there is an error. Any other plugin (pulled, exported) needs Path new or
// empty. Options are pack's, for unpacking an artifact (size limits, dir
// mode, progress).
type Dir struct {
	Path    string
	Options []pack.Option
}

var (
	_ Dest    = (*Dir)(nil)
	_ Stager  = (*Dir)(nil)
	_ Stepper = (*Dir)(nil)
)

func (d *Dir) String() string { return "directory " + d.Path }

// Step names no step: a Dir is delivered without one (a build's rename is
// instant; an unpack reports its bytes through the pack options given).
func (d *Dir) Step() string { return "" }

// StagingParent stages next to Path, on the same file system.
func (d *Dir) StagingParent() string { return filepath.Dir(filepath.Clean(d.Path)) }

// Deliver writes src to Path and returns Path, absolute: a staged dir is
// renamed, an artifact unpacked (pack.Unpack), a plugin dir or an
// installed plugin copied.
func (d *Dir) Deliver(ctx context.Context, src *source.Source) (string, error) {
	var err error
	switch {
	case src.Staged:
		err = d.rename(ctx, pluginDir(src))
	case src.Artifact != nil:
		err = pack.Unpack(ctx, src.Artifact, d.Path, d.Options...)
	case src.Rootfs != "":
		err = d.copy(ctx, src)
	default:
		return "", kindError(d, src)
	}
	if err != nil {
		return "", err
	}
	path := filepath.Clean(d.Path)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}

// PullFrom checks, before any download, what `dplug pull` reads and
// where it writes: Path new or empty, and the registry reference ref (a
// valid one: opts such as pack.WithInsecure apply) or, when layout is not
// "", the OCI layout layout. It returns the argument for source.Open and
// its kind. Mistakes are *InputErrors.
func (d *Dir) PullFrom(ref, layout string, opts ...pack.Option) (string, source.Kind, error) {
	if err := CheckEmpty(d.Path); err != nil {
		return "", 0, &InputError{err}
	}
	if layout != "" {
		return layout, source.Layout, nil
	}
	if err := pack.ParseReference(ref, opts...); err != nil {
		return "", 0, &InputError{fmt.Errorf("pulling %s: %w", ref, err)}
	}
	return ref, source.Registry, nil
}

// Pulled is what Pull wrote: the artifact's reference and digest, and the
// plugin directory (absolute).
type Pulled struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Dir    string `json:"dir"`
}

// Pull unpacks the registry or layout artifact src into Path (Deliver)
// and says what it wrote.
func (d *Dir) Pull(ctx context.Context, src *source.Source) (*Pulled, error) {
	if src.Artifact == nil {
		return nil, kindError(d, src)
	}
	abs, err := d.Deliver(ctx, src)
	if err != nil {
		return nil, err
	}
	return &Pulled{Ref: src.Artifact.Ref(), Digest: src.Artifact.Digest(), Dir: abs}, nil
}

// rename moves the staged dir to Path, replacing a plugin dir there.
func (d *Dir) rename(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := filepath.Clean(d.Path)
	var old string
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading %s: %w", path, err)
	case len(entries) == 0:
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("replacing %s: %w", path, err)
		}
	default:
		if !isPluginDir(entries) {
			return fmt.Errorf("writing plugin to %s: it exists and is not a plugin directory (config.json + rootfs/)", path)
		}
		old = dir + ".old"
		if err := os.Rename(path, old); err != nil {
			return fmt.Errorf("replacing %s: %w", path, err)
		}
	}
	if err := os.Rename(dir, path); err != nil {
		if old != "" {
			_ = os.Rename(old, path)
		}
		return fmt.Errorf("writing plugin to %s: %w", path, err)
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// copy writes the config as installed (without the rootfs dockerd fills in
// at create) and a copy of the rootfs, what `dplug export` writes. A Path
// that is not new or empty is an *InputError (CheckEmpty), found before
// anything is written.
func (d *Dir) copy(ctx context.Context, src *source.Source) error {
	dir := d.Path
	if err := CheckEmpty(dir); err != nil {
		return &InputError{fmt.Errorf("exporting %s: %w", src.Arg, err)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("exporting %s: %w", src.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), src.Raw, 0o644); err != nil {
		return fmt.Errorf("exporting %s: %w", src.Name, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.WriteDir(ctx, pw, src.Rootfs)) }()
	err := archive.Extract(ctx, pr, filepath.Join(dir, "rootfs"),
		archive.WithDevices(true), archive.WithMaxEntries(math.MaxInt64), archive.WithMaxBytes(math.MaxInt64))
	pr.CloseWithError(errors.New("export stopped"))
	if err != nil {
		return fmt.Errorf("exporting %s: %w", src.Name, err)
	}
	return nil
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

// PlatformDir is the plugin built for one platform of a multi-platform
// build: a plugin directory (config.json + rootfs/).
type PlatformDir struct {
	Platform string // os/arch[/variant], e.g. linux/arm64
	Dir      string
}

// MultiDest is a Dest that also takes the plugins of a multi-platform build
// (WithPlatforms with more than one platform). Docker installs plugins of
// one platform only, so each platform becomes a plugin of its own.
type MultiDest interface {
	Dest
	DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error)
}

var _ MultiDest = (*Dir)(nil)

// DeliverAll writes Path/os_arch[_variant]/ per platform, each a plugin
// directory; Path appears complete or not at all.
func (d *Dir) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	if len(plugins) == 0 {
		return "", errors.New("no platforms built")
	}
	parent := filepath.Dir(plugins[0].Dir)
	for _, p := range plugins {
		if filepath.Dir(p.Dir) != parent {
			return "", fmt.Errorf("platform dirs not staged together: %s", p.Dir)
		}
	}
	path := filepath.Clean(d.Path)
	if entries, err := os.ReadDir(path); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("writing plugins to %s: it exists and is not empty", path)
	} else if err == nil {
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(parent, path); err != nil {
		return "", fmt.Errorf("writing plugins to %s: %w", path, err)
	}
	var lines []string
	for _, p := range plugins {
		lines = append(lines, filepath.Join(path, filepath.Base(p.Dir)))
	}
	return strings.Join(lines, "\n"), nil
}
