package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/platforms"

	"github.com/dplug/dplug/pack"
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
	_ MultiDest = (*OCILayout)(nil)
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

// DeliverAll packs each platform's plugin and pushes them with
// pack.PushPlatforms: REF's tag with "-ARCH" appended per platform (TAG-amd64,
// TAG-arm64, TAG-armv7), what dockerd users install, plus a manifest list at
// REF when the options include pack.WithIndex(true).
func (d *Registry) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	imgs, closeAll, err := packAll(ctx, plugins, d.Options)
	defer closeAll()
	if err != nil {
		return "", err
	}
	return packStep(ctx, fmt.Sprintf("[dplug] push %s (%d platforms)", d.Ref, len(imgs)), d.Options, func(opts []pack.Option) (string, error) {
		res, err := pack.PushPlatforms(ctx, d.Ref, imgs, opts...)
		if err != nil {
			return "", err
		}
		var lines []string
		for _, p := range res.Platforms {
			lines = append(lines, p.Ref+"@"+p.Digest)
		}
		if res.Index != "" {
			lines = append(lines, res.Index+"@"+res.IndexDigest)
		}
		return strings.Join(lines, "\n"), nil
	})
}

// DeliverAll packs each platform's plugin into the one layout, each
// recorded with its platform (pack.WriteLayoutPlatform), so pull and
// install pick by platform. A new layout appears complete or not at all.
func (d *OCILayout) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	imgs, closeAll, err := packAll(ctx, plugins, d.Options)
	defer closeAll()
	if err != nil {
		return "", err
	}
	path := filepath.Clean(d.Path)
	target := path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		target = filepath.Join(filepath.Dir(plugins[0].Dir), ".oci")
		defer os.RemoveAll(target)
	} else if err != nil {
		return "", fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	var lines []string
	for _, pi := range imgs {
		if err := pack.WriteLayoutPlatform(target, pi.Image, pi.Platform); err != nil {
			return "", err
		}
		dg, err := pi.Image.Digest()
		if err != nil {
			return "", err
		}
		lines = append(lines, path+"@"+dg.String()+" "+pi.Platform)
	}
	if target != path {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := os.Rename(target, path); err != nil {
			return "", fmt.Errorf("writing OCI layout %s: %w", path, err)
		}
	}
	return strings.Join(lines, "\n"), nil
}

// packAll packs each platform's plugin, as one [dplug] step each.
func packAll(ctx context.Context, plugins []PlatformDir, opts []pack.Option) ([]pack.PlatformImage, func(), error) {
	var imgs []pack.PlatformImage
	closeAll := func() {
		for _, pi := range imgs {
			closeImage(pi.Image)
		}
	}
	for _, p := range plugins {
		_, err := packStep(ctx, "[dplug] pack "+p.Platform, opts, func(opts []pack.Option) (string, error) {
			img, err := pack.Image(ctx, p.Dir, opts...)
			if err != nil {
				return "", err
			}
			imgs = append(imgs, pack.PlatformImage{Platform: p.Platform, Image: img})
			return "", nil
		})
		if err != nil {
			return nil, closeAll, err
		}
	}
	return imgs, closeAll, nil
}
