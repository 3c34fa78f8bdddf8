package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/platforms"
)

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

var (
	_ MultiDest = (*Dir)(nil)
	_ MultiDest = (*Registry)(nil)
)

// normalizePlatforms parses and normalises os/arch[/variant] specifiers,
// dropping duplicates.
func normalizePlatforms(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, err := platforms.Parse(f)
			if err != nil {
				return nil, fmt.Errorf("parsing platform %q: %w", f, err)
			}
			n := platforms.FormatAll(platforms.Normalize(p))
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// platformPath is the directory BuildKit's local exporter uses for a
// platform when it splits its output: os_arch[_variant].
func platformPath(p string) string { return strings.ReplaceAll(p, "/", "_") }

// platformTag is the tag suffix of a platform's plugin: arch plus variant
// (amd64, arm64, armv7), what `TAG-ARCH` names.
func platformTag(p string) string {
	parts := strings.Split(p, "/")
	if len(parts) < 2 {
		return p
	}
	return strings.Join(parts[1:], "")
}

// splitPlatforms turns BuildKit's split export (rootfs/os_arch/...) into one
// plugin dir per platform under staging.
func splitPlatforms(staging, rootfs string, plats []string, cfg []byte) ([]PlatformDir, error) {
	var out []PlatformDir
	for _, p := range plats {
		dir := filepath.Join(staging, "platforms", platformPath(p))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		src := filepath.Join(rootfs, platformPath(p))
		if _, err := os.Stat(src); err != nil {
			return nil, fmt.Errorf("BuildKit exported nothing for %s: %w", p, err)
		}
		if err := os.Rename(src, filepath.Join(dir, "rootfs")); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
			return nil, fmt.Errorf("writing config.json: %w", err)
		}
		out = append(out, PlatformDir{Platform: p, Dir: dir})
	}
	return out, nil
}

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

// DeliverAll pushes each platform's plugin as REF's tag with "-ARCH"
// appended (TAG-amd64, TAG-arm64, TAG-armv7), what dockerd users install.
func (d *Registry) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	base, tag, err := splitTag(d.Ref)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, p := range plugins {
		r := &Registry{Ref: base + ":" + tag + "-" + platformTag(p.Platform), Options: d.Options}
		out, err := r.Deliver(ctx, p.Dir)
		if err != nil {
			return "", err
		}
		lines = append(lines, out)
	}
	return strings.Join(lines, "\n"), nil
}

// splitTag splits REPO[:TAG] (latest when absent); digests are refused.
func splitTag(ref string) (repo, tag string, err error) {
	if strings.Contains(ref, "@") {
		return "", "", fmt.Errorf("pushing %s: a multi-platform push needs a tag, not a digest", ref)
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:], nil
	}
	return ref, "latest", nil
}
