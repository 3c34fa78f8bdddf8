package dest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
)

// OCILayout packs the plugin into the registry artifact (package pack) and
// writes it to an OCI image layout at Path, the air-gapped form of a push.
// A new layout is written beside Path and renamed into place; an existing
// layout gets the plugin added. Platform is the one the plugin is for (see
// Registry).
type OCILayout struct {
	Path     string
	Platform string
	Options  []pack.Option
}

// Registry packs the plugin and pushes it to Ref, what `docker plugin
// install Ref` reads. A plugin read from an OCI layout is pushed unchanged;
// an installed one mounts the layers of the reference it came from.
// Unless a build staged it (a build checks its platforms itself), the
// plugin's entrypoint must be built for Platform: by default the one an OCI
// layout records for it, else this host's.
type Registry struct {
	Ref      string
	Platform string
	Options  []pack.Option
}

var (
	_ Dest      = (*OCILayout)(nil)
	_ Stager    = (*OCILayout)(nil)
	_ Stepper   = (*OCILayout)(nil)
	_ metered   = (*OCILayout)(nil)
	_ Dest      = (*Registry)(nil)
	_ Stepper   = (*Registry)(nil)
	_ metered   = (*Registry)(nil)
	_ MultiDest = (*Registry)(nil)
	_ MultiDest = (*OCILayout)(nil)
)

func (d *OCILayout) String() string { return "OCI layout " + d.Path }

// Step names the delivery step.
func (d *OCILayout) Step() string { return "pack to OCI layout " + d.Path }

// StagingParent stages next to Path.
func (d *OCILayout) StagingParent() string { return filepath.Dir(filepath.Clean(d.Path)) }

// Deliver packs src and writes it to the layout; it returns PATH@DIGEST.
func (d *OCILayout) Deliver(ctx context.Context, src *source.Source) (string, error) {
	return d.deliver(ctx, src, nil)
}

func (d *OCILayout) deliver(ctx context.Context, src *source.Source, p progressFunc) (string, error) {
	img, err := image(ctx, src, d.Platform, withProgress(d.Options, p))
	if err != nil {
		return "", err
	}
	defer closeImage(img)
	dgst, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("packing %s: %w", src.Arg, err)
	}
	path := filepath.Clean(d.Path)
	err = d.write(ctx, func(dir string) error {
		if src.Platform != "" {
			return pack.WriteLayoutPlatform(dir, img, src.Platform)
		}
		return pack.WriteLayout(dir, img)
	})
	if err != nil {
		return "", err
	}
	return path + "@" + dgst.String(), nil
}

// write runs fn on the layout: in place when it exists, else on a new one
// beside Path, renamed into place once complete.
func (d *OCILayout) write(ctx context.Context, fn func(dir string) error) error {
	path := filepath.Clean(d.Path)
	if _, err := os.Stat(path); err == nil {
		return fn(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".dplug-oci-")
	if err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	if err := fn(tmp); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	return nil
}

func (d *Registry) String() string { return "registry " + d.Ref }

// Step names the delivery step.
func (d *Registry) Step() string { return "pack and push " + d.Ref }

// Deliver packs src and pushes it; it returns REF@DIGEST.
func (d *Registry) Deliver(ctx context.Context, src *source.Source) (string, error) {
	return d.deliver(ctx, src, nil)
}

func (d *Registry) deliver(ctx context.Context, src *source.Source, p progressFunc) (string, error) {
	opts := withProgress(d.Options, p)
	img, err := image(ctx, src, d.Platform, opts)
	if err != nil {
		return "", err
	}
	defer closeImage(img)
	dgst, err := pack.Push(ctx, img, d.Ref, opts...)
	if err != nil {
		return "", err
	}
	return d.Ref + "@" + dgst, nil
}

// image is src as the registry artifact: packed from a plugin dir or an
// installed plugin, as it is from an OCI layout. Its entrypoint is checked
// against platform unless a build staged it.
func image(ctx context.Context, src *source.Source, platform string, opts []pack.Option) (v1.Image, error) {
	var img v1.Image
	var err error
	switch {
	case src.Kind == source.Layout && src.Artifact != nil:
		img, err = src.Artifact.Image()
		if platform == "" {
			// The platform a layout records for the plugin (dplug build
			// --platform X --output oci=DIR) is the one it is pushed for.
			platform, _ = pack.LayoutPlatform(src.Arg)
		}
	case src.Stored != nil:
		if ref := src.Stored.PluginReference; ref != "" {
			opts = append(opts[:len(opts):len(opts)], pack.WithMountFrom(ref))
		}
		img, err = pack.ImageFromRootfs(ctx, src.Raw, src.Rootfs, opts...)
	case src.Kind == source.Dir:
		img, err = pack.Image(ctx, pluginDir(src), opts...)
	default:
		return nil, fmt.Errorf("%s: a %s is not packed again: pull or install it first", src.Arg, src.Kind)
	}
	if err != nil {
		return nil, err
	}
	if !src.Staged {
		if err := checkArch(img, platform); err != nil {
			closeImage(img)
			return nil, err
		}
	}
	return img, nil
}

// checkArch refuses to publish a plugin whose entrypoint is built for
// another architecture than platform ("" for this host's).
func checkArch(img v1.Image, platform string) error {
	r, err := pack.CheckImage(img, platform)
	if err != nil {
		return err
	}
	return r.PushError(platform)
}

// withProgress adds p, if any, to opts as pack's progress callback.
func withProgress(opts []pack.Option, p progressFunc) []pack.Option {
	if p == nil {
		return opts
	}
	return append(opts[:len(opts):len(opts)], pack.WithProgress(func(u pack.Progress) { p(u.Phase, u.Complete, u.Total) }))
}

func closeImage(img v1.Image) {
	if c, ok := img.(io.Closer); ok {
		_ = c.Close()
	}
}

// DeliverAll packs each platform's plugin and pushes them with
// pack.PushPlatforms: REF's tag with "-ARCH" appended per platform (TAG-amd64,
// TAG-arm64, TAG-armv7), what dockerd users install, plus a manifest list at
// REF when the options include pack.WithIndex(true).
func (d *Registry) DeliverAll(ctx context.Context, plugins []PlatformDir) (string, error) {
	return d.deliverAll(ctx, plugins, nil)
}

func (d *Registry) deliverAll(ctx context.Context, plugins []PlatformDir, p Progress) (string, error) {
	imgs, closeAll, err := packAll(ctx, plugins, d.Options, p)
	defer closeAll()
	if err != nil {
		return "", err
	}
	return run(p, fmt.Sprintf("push %s (%d platforms)", d.Ref, len(imgs)), func(pf progressFunc) (string, error) {
		res, err := pack.PushPlatforms(ctx, d.Ref, imgs, withProgress(d.Options, pf)...)
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
	return d.deliverAll(ctx, plugins, nil)
}

func (d *OCILayout) deliverAll(ctx context.Context, plugins []PlatformDir, p Progress) (string, error) {
	imgs, closeAll, err := packAll(ctx, plugins, d.Options, p)
	defer closeAll()
	if err != nil {
		return "", err
	}
	path := filepath.Clean(d.Path)
	var lines []string
	err = d.write(ctx, func(dir string) error {
		for _, pi := range imgs {
			if err := pack.WriteLayoutPlatform(dir, pi.Image, pi.Platform); err != nil {
				return err
			}
			dg, err := pi.Image.Digest()
			if err != nil {
				return err
			}
			lines = append(lines, path+"@"+dg.String()+" "+pi.Platform)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

// packAll packs each platform's plugin, as one step each.
func packAll(ctx context.Context, plugins []PlatformDir, opts []pack.Option, p Progress) ([]pack.PlatformImage, func(), error) {
	var imgs []pack.PlatformImage
	closeAll := func() {
		for _, pi := range imgs {
			closeImage(pi.Image)
		}
	}
	for _, pd := range plugins {
		_, err := run(p, "pack "+pd.Platform, func(pf progressFunc) (string, error) {
			img, err := pack.Image(ctx, pd.Dir, withProgress(opts, pf)...)
			if err != nil {
				return "", err
			}
			imgs = append(imgs, pack.PlatformImage{Platform: pd.Platform, Image: img})
			return "", nil
		})
		if err != nil {
			return nil, closeAll, err
		}
	}
	return imgs, closeAll, nil
}
