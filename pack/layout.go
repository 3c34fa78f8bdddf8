package pack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// WriteLayout adds img to the OCI image layout at path, creating the layout
// if it does not exist: the air-gapped form of a push. The manifest keeps
// its Docker media types, so the layout can be copied to any registry with
// standard tools (skopeo, crane, oras) and installed from there.
func WriteLayout(path string, img v1.Image) error {
	return writeLayout(path, img)
}

func writeLayout(path string, img v1.Image, lopts ...layout.Option) error {
	var p layout.Path
	_, err := os.Stat(filepath.Join(path, "index.json"))
	switch {
	case err == nil:
		if p, err = layout.FromPath(path); err != nil {
			return fmt.Errorf("writing OCI layout %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if p, err = layout.Write(path, empty.Index); err != nil {
			return fmt.Errorf("writing OCI layout %s: %w", path, err)
		}
	default:
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	if err := p.AppendImage(img, lopts...); err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", path, err)
	}
	return nil
}

// ReadLayout opens the plugin stored in the OCI image layout at path. When
// the layout holds several plugins, WithPlatform (default: the host's)
// chooses among those that declare a platform; a single plugin is used
// as is.
func ReadLayout(path string, opts ...Option) (*Plugin, error) {
	o := makeOptions(opts...)
	p, err := layout.FromPath(path)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	// Descend through nested indexes (e.g. a multi-arch index stored in
	// the layout) to one manifest.
	for depth := 0; ; depth++ {
		if len(im.Manifests) == 0 {
			return nil, fmt.Errorf("reading OCI layout %s: %w: the layout is empty", path, ErrNotFound)
		}
		var d v1.Descriptor
		if len(im.Manifests) == 1 {
			d = im.Manifests[0]
		} else if d, err = pickPlatform(path, im, o.platform); err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
		}
		if !d.MediaType.IsIndex() {
			raw, err := p.Bytes(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
			}
			if h, _, _ := v1.SHA256(bytes.NewReader(raw)); h != d.Digest {
				return nil, fmt.Errorf("reading OCI layout %s: manifest %s: %w", path, d.Digest, ErrDigestMismatch)
			}
			m, err := parseManifest(d.MediaType, raw)
			if err != nil {
				return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
			}
			return &Plugin{ref: path, digest: d.Digest, manifest: m, blobs: layoutBlobs{p}, log: o.log, limits: o.sizeLimits()}, nil
		}
		if depth > 4 {
			return nil, fmt.Errorf("reading OCI layout %s: indexes nested too deep", path)
		}
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
		}
		if im, err = child.IndexManifest(); err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
		}
		idx = child
	}
}

// Image returns the plugin as a v1.Image, for pushing it to a registry
// unchanged (same manifest bytes, same digest): the other half of an
// air-gapped transfer. Only a plugin read from an OCI layout (ReadLayout)
// has one; a plugin fetched from a registry is copied by its blobs.
func (p *Plugin) Image() (v1.Image, error) {
	lb, ok := p.blobs.(layoutBlobs)
	if !ok {
		return nil, fmt.Errorf("%s: only a plugin read from an OCI layout can be pushed unchanged", p.ref)
	}
	img, err := lb.p.Image(p.digest)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", p.ref, err)
	}
	return img, nil
}

// IsLayout reports whether dir looks like an OCI image layout.
func IsLayout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil
}

// layoutBlobs reads blobs from an OCI layout's blobs/ directory.
type layoutBlobs struct{ p layout.Path }

func (b layoutBlobs) blob(_ context.Context, desc v1.Descriptor) (io.ReadCloser, error) {
	rc, err := b.p.Blob(desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("%w: blob %s is missing from the layout", ErrNotFound, desc.Digest)
	}
	return rc, nil
}
