package pack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"

	"github.com/klauspost/compress/gzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/plugin"
)

// Plugin is a plugin artifact read from a registry or an OCI layout: its
// manifest has been checked (a plugin, not a container image) but blobs are
// fetched, and verified against their digests, only when read.
//
// *Plugin satisfies the store's Source interface (ConfigJSON and Layers).
type Plugin struct {
	ref      string
	digest   v1.Hash
	manifest *v1.Manifest
	blobs    blobSource
	log      *slog.Logger
	config   []byte // cached, verified
}

// blobSource opens a blob by descriptor; one implementation per backend
// (registry, OCI layout).
type blobSource interface {
	blob(ctx context.Context, desc v1.Descriptor) (io.ReadCloser, error)
}

// Ref is where the plugin was read from.
func (p *Plugin) Ref() string { return p.ref }

// Digest is the digest of the plugin's manifest ("sha256:…").
func (p *Plugin) Digest() string { return p.digest.String() }

// Manifest returns the plugin's (parsed) manifest.
func (p *Plugin) Manifest() *v1.Manifest { return p.manifest }

// ConfigJSON returns the config blob: the plugin config as the pusher
// serialised it, rootfs included.
func (p *Plugin) ConfigJSON(ctx context.Context) ([]byte, error) {
	if p.config != nil {
		return p.config, nil
	}
	rc, err := p.blobs.blob(ctx, p.manifest.Config)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", p.ref, err)
	}
	defer rc.Close()
	const maxConfig = 4 << 20
	if p.manifest.Config.Size > maxConfig {
		return nil, fmt.Errorf("reading config of %s: config blob is %d bytes, more than %d", p.ref, p.manifest.Config.Size, maxConfig)
	}
	vr := newVerifier(rc, p.manifest.Config)
	data, err := io.ReadAll(io.LimitReader(vr, maxConfig+1))
	if err == nil {
		err = vr.check()
	}
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", p.ref, err)
	}
	if _, err := plugin.Parse(data); err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", p.ref, err)
	}
	p.config = data
	return data, nil
}

// Config returns the parsed plugin config.
func (p *Plugin) Config(ctx context.Context) (*plugin.Config, error) {
	data, err := p.ConfigJSON(ctx)
	if err != nil {
		return nil, err
	}
	return plugin.Parse(data)
}

// Layers calls fn with each rootfs layer, uncompressed, in order. Each
// layer's digest is verified once it has been read to the end: when fn
// returns nil but the content did not match, Layers returns an error
// wrapping ErrDigestMismatch, so a caller must treat what fn wrote as
// garbage when Layers fails.
func (p *Plugin) Layers(ctx context.Context, fn func(tar io.Reader) error) error {
	for _, desc := range p.manifest.Layers {
		if err := p.layer(ctx, desc, fn); err != nil {
			return fmt.Errorf("reading layer %s of %s: %w", desc.Digest, p.ref, err)
		}
	}
	return nil
}

func (p *Plugin) layer(ctx context.Context, desc v1.Descriptor, fn func(io.Reader) error) (err error) {
	if err := checkLayerType(desc.MediaType); err != nil {
		return err
	}
	rc, err := p.blobs.blob(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := newVerifier(rc, desc)
	// Like dockerd (chrootarchive.ApplyLayer), trust the bytes rather than
	// the media type: gzip is recognised by its magic number.
	br := bufio.NewReaderSize(vr, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if cerr := drainCheck(vr); cerr != nil {
				return cerr
			}
			return fmt.Errorf("decompressing: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	if err := fn(r); err != nil {
		if cerr := drainCheck(vr); cerr != nil {
			return cerr // the real cause: corrupt content
		}
		return err
	}
	// Read to the end (tar padding, gzip trailer) so the digest covers
	// every byte.
	if _, err := io.Copy(io.Discard, r); err != nil {
		if cerr := drainCheck(vr); cerr != nil {
			return cerr
		}
		return fmt.Errorf("decompressing: %w", err)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	return drainCheck(vr)
}

// checkLayerType accepts the layer types dockerd applies for plugins
// (Docker or OCI, gzip or plain tar). dockerd silently skips others (zstd,
// foreign layers), leaving an empty rootfs; dplug refuses them.
func checkLayerType(mt types.MediaType) error {
	switch mt {
	case types.DockerLayer, types.OCILayer, types.DockerUncompressedLayer, types.OCIUncompressedLayer:
		return nil
	}
	return fmt.Errorf("%w: layer media type %s (docker plugin install would skip it and leave an empty rootfs; push the rootfs as a gzip or plain tar layer)",
		ErrUnsupported, mt)
}

// verifier hashes and counts what is read through it.
type verifier struct {
	r    io.Reader
	desc v1.Descriptor
	h    hash.Hash
	n    int64
}

func newVerifier(r io.Reader, desc v1.Descriptor) *verifier {
	return &verifier{r: r, desc: desc, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.desc.Size > 0 && v.n > v.desc.Size {
		return n, fmt.Errorf("%w: %s: more than the %d bytes the manifest declares", ErrDigestMismatch, v.desc.Digest, v.desc.Size)
	}
	return n, err
}

// check compares what was read with the descriptor.
func (v *verifier) check() error {
	got := fmt.Sprintf("sha256:%x", v.h.Sum(nil))
	if v.desc.Digest.Algorithm != "sha256" {
		return fmt.Errorf("%w: digest algorithm %q", ErrUnsupported, v.desc.Digest.Algorithm)
	}
	if got != v.desc.Digest.String() || (v.desc.Size > 0 && v.n != v.desc.Size) {
		return fmt.Errorf("%w: the registry served %d bytes with digest %s for %s (%d bytes); the registry's storage is corrupt or something between rewrites content: nothing was kept, push the plugin again or try another mirror",
			ErrDigestMismatch, v.n, got, v.desc.Digest, v.desc.Size)
	}
	return nil
}

// drainCheck reads the rest of the blob and verifies it.
func drainCheck(v *verifier) error {
	if _, err := io.Copy(io.Discard, v); err != nil {
		return err
	}
	return v.check()
}

// parseManifest checks that raw is a plugin manifest: Docker schema 2 or
// OCI, with the plugin config media type.
func parseManifest(mt types.MediaType, raw []byte) (*v1.Manifest, error) {
	switch mt {
	case types.DockerManifestSchema2, types.OCIManifestSchema1:
	case types.DockerManifestSchema1, types.DockerManifestSchema1Signed:
		return nil, fmt.Errorf("%w: it is a schema-1 manifest (%s), which plugins never used; push it again with dplug push", ErrNotPlugin, mt)
	default:
		return nil, fmt.Errorf("%w: the manifest is %s; a plugin's is %s", ErrUnsupported, mt, types.DockerManifestSchema2)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if m.Config.MediaType != MediaTypeConfig {
		what := "an artifact"
		switch m.Config.MediaType {
		case types.DockerConfigJSON, types.OCIConfigJSON:
			what = "a container image"
		}
		return nil, fmt.Errorf("%w: it is %s (config media type %s; a plugin's is %s); push a plugin there with `dplug push` or `docker plugin push`",
			ErrNotPlugin, what, m.Config.MediaType, MediaTypeConfig)
	}
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("%w: the manifest has no rootfs layer", ErrNotPlugin)
	}
	return m, nil
}

// configDiffIDs returns rootfs.diff_ids of a config blob, for logging.
func configDiffIDs(data []byte) []string {
	var c struct {
		Rootfs struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	_ = json.Unmarshal(data, &c)
	return c.Rootfs.DiffIDs
}
