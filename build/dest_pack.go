package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dplug/dplug/pack"
)

// OCILayout packs the plugin into the registry artifact (package pack) and
// writes it to an OCI image layout at Path, the air-gapped form of a push.
// A new layout is written beside Path and renamed into place; an existing
// layout gets the plugin added.
type OCILayout struct {
	Path    string
	Options []pack.Option
}

// Registry packs the plugin and pushes it to Ref, what `docker plugin
// install Ref` reads.
type Registry struct {
	Ref     string
	Options []pack.Option
}

var (
	_ Dest   = (*OCILayout)(nil)
	_ Stager = (*OCILayout)(nil)
	_ Dest   = (*Registry)(nil)
)

func (d *OCILayout) String() string { return "OCI layout " + d.Path }

// StagingParent stages next to Path.
func (d *OCILayout) StagingParent() string { return filepath.Dir(filepath.Clean(d.Path)) }

// Deliver packs dir and writes it to the layout; it returns PATH@DIGEST.
func (d *OCILayout) Deliver(ctx context.Context, dir string) (string, error) {
	return packStep(ctx, "[dplug] pack to OCI layout "+d.Path, d.Options, func(opts []pack.Option) (string, error) {
		return d.deliver(ctx, dir, opts)
	})
}

func (d *OCILayout) deliver(ctx context.Context, dir string, opts []pack.Option) (string, error) {
	img, err := pack.Image(ctx, dir, opts...)
	if err != nil {
		return "", err
	}
	defer closeImage(img)
	dgst, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("packing %s: %w", dir, err)
	}
	path := filepath.Clean(d.Path)
	if _, err := os.Stat(path); err == nil {
		if err := writeLayout(ctx, path, img); err != nil {
			return "", err
		}
		return path + "@" + dgst.String(), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	tmp := dir + ".oci"
	defer os.RemoveAll(tmp)
	if err := writeLayout(ctx, tmp, img); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	return path + "@" + dgst.String(), nil
}

func (d *Registry) String() string { return "registry " + d.Ref }

// Deliver packs dir and pushes it; it returns REF@DIGEST.
func (d *Registry) Deliver(ctx context.Context, dir string) (string, error) {
	return packStep(ctx, "[dplug] pack and push "+d.Ref, d.Options, func(opts []pack.Option) (string, error) {
		return d.deliver(ctx, dir, opts)
	})
}

func (d *Registry) deliver(ctx context.Context, dir string, opts []pack.Option) (string, error) {
	img, err := pack.Image(ctx, dir, opts...)
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

func closeImage(img v1.Image) {
	if c, ok := img.(io.Closer); ok {
		_ = c.Close()
	}
}
