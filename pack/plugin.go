package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/internal/blockgz"
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
	limits   sizeLimits
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
	const maxConfig = 4 << 20
	if p.manifest.Config.Size > maxConfig {
		return nil, fmt.Errorf("reading config of %s: config blob is %d bytes, more than %d", p.ref, p.manifest.Config.Size, maxConfig)
	}
	rc, err := p.blobs.blob(ctx, p.manifest.Config)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", p.ref, classify(p.ref, err))
	}
	defer rc.Close()
	vr := newVerifier(rc, p.manifest.Config)
	data, err := io.ReadAll(io.LimitReader(vr, maxConfig+1))
	if err == nil {
		err = vr.check()
	}
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", p.ref, classify(p.ref, err))
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
//
// The layers may expand to at most the size set by WithMaxSize (all
// layers together); past that, reading fails with an error wrapping
// ErrTooLarge. A layer whose content checks out but does not decompress
// fails with ErrDamaged.
func (p *Plugin) Layers(ctx context.Context, fn func(tar io.Reader) error) error {
	budget := p.limits.max
	if budget <= 0 {
		budget = DefaultMaxSize
	}
	for _, desc := range p.manifest.Layers {
		if err := p.layer(ctx, desc, &budget, fn); err != nil {
			return fmt.Errorf("reading layer %s of %s: %w", desc.Digest, p.ref, shorten(classify(p.ref, err), nil))
		}
	}
	return nil
}

func (p *Plugin) layer(ctx context.Context, desc v1.Descriptor, budget *int64, fn func(io.Reader) error) (err error) {
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
	format := "tar"
	// zr, when set, reads br on goroutines of its own: it is closed
	// (which waits for them) before anything else reads br or vr.
	var zr *blockgz.Reader
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		// dplug's own layers (blockgz members) are inflated on every
		// core; any other gzip is read as one stream, and so is a blockgz
		// stream from its first member that does not check out.
		zr, err = blockgz.NewReader(br, blockgz.ReaderOptions{})
		if err != nil {
			if cerr := drainCheck(vr); cerr != nil {
				return cerr
			}
			return fmt.Errorf("decompressing: %w", err)
		}
		defer zr.Close()
		r, format = zr, "gzip"
	}
	lr := &expandLimit{r: r, left: *budget, total: p.limits.max}
	if p.limits.ratio {
		if ratioMax := max(p.limits.floor, maxRatio*desc.Size); ratioMax < lr.left {
			lr.left, lr.ratio, lr.size = ratioMax, true, desc.Size
		}
	}
	defer func() { *budget -= lr.n }()
	// Download, verify and inflate on other goroutines while fn writes
	// files (readahead.go, or zr's own). They are stopped before vr or br
	// is read here.
	// A parallel zr runs ahead of fn on its own goroutines already.
	var src io.Reader = lr
	var ra *readAhead
	if zr == nil || !zr.Parallel() {
		ra = newReadAhead(lr)
		defer ra.Close()
		src = ra
	}
	stop := func() {
		if ra != nil {
			ra.Close()
		}
		if zr != nil {
			zr.Close()
		}
	}
	if err := fn(src); err != nil {
		stop()
		if cerr := drainCheck(vr); cerr != nil {
			return cerr // the real cause: corrupt content
		}
		return damaged(desc, format, err)
	}
	// Read to the end (tar padding, gzip trailer) so the digest covers
	// every byte.
	_, err = io.Copy(io.Discard, src)
	stop()
	if err != nil {
		if cerr := drainCheck(vr); cerr != nil {
			return cerr
		}
		return damaged(desc, format, fmt.Errorf("decompressing: %w", err))
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	return drainCheck(vr)
}

// damaged names err, met while reading a layer whose bytes all arrived
// and match the digest, as the blob's own fault when it is a decoding
// error (truncated or corrupt gzip or tar): the registry holds a damaged
// blob and reading it again cannot help. Other errors pass unchanged.
func damaged(desc v1.Descriptor, format string, err error) error {
	var what string
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		what = "is truncated"
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		what = "is corrupt"
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong):
		what = "holds a broken tar"
	default:
		var ce flate.CorruptInputError
		if !errors.As(err, &ce) {
			return err
		}
		what = "is corrupt"
	}
	return &damagedError{digest: desc.Digest.String(), what: what, format: format, err: err}
}

// damagedError is a layer that decodes badly although its digest matches.
type damagedError struct {
	digest, what, format string
	err                  error
}

func (e *damagedError) Error() string {
	return fmt.Sprintf("layer %s %s (%s: %v): the registry served a damaged blob (its digest matches, so the damage was pushed: push the plugin again)",
		e.digest, e.what, e.format, rootCause(e.err))
}

func (e *damagedError) Is(target error) bool { return target == ErrDamaged }

func (e *damagedError) Unwrap() error { return e.err }

// rootCause is the innermost error of a chain ("gzip: unexpected EOF"
// rather than every wrapping layer).
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// expandLimit fails a layer's uncompressed stream past its share of the
// size limit.
type expandLimit struct {
	r     io.Reader
	left  int64 // bytes this layer may still produce
	n     int64 // bytes produced
	total int64 // the limit of all layers, for the message
	ratio bool  // left came from the compression-ratio bound
	size  int64 // the layer's compressed size (ratio bound)
}

func (l *expandLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		if l.ratio {
			return 0, fmt.Errorf("%w: the layer expands past %d bytes, %d times its compressed size of %d bytes (a decompression bomb?); "+
				"if the plugin really is that big, allow it with --max-size", ErrTooLarge, l.n, maxRatio, l.size)
		}
		return 0, fmt.Errorf("%w: the layers expand past %d bytes; if the plugin really is that big, raise --max-size", ErrTooLarge, l.total)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.left -= int64(n)
	return n, err
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

// verifier hashes and counts what is read through it. A read error
// sticks: draining after a cut connection reports the cut (worth a
// retry), not a digest mismatch.
type verifier struct {
	r    io.Reader
	desc v1.Descriptor
	h    hash.Hash
	n    int64
	err  error
}

func newVerifier(r io.Reader, desc v1.Descriptor) *verifier {
	return &verifier{r: r, desc: desc, h: sha256.New()}
}

// Read never reads more than one byte past the declared size, and fails
// there: an endless body cannot keep it reading.
func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.n > v.desc.Size {
		return 0, v.tooLong()
	}
	if room := v.desc.Size - v.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.n > v.desc.Size {
		return n, v.tooLong()
	}
	if err != nil && err != io.EOF {
		v.err = err
	}
	return n, err
}

func (v *verifier) tooLong() error {
	return fmt.Errorf("%w: the registry served more than the %d bytes the manifest declares for %s; nothing was kept, push the plugin again or try another mirror",
		ErrDigestMismatch, v.desc.Size, v.desc.Digest)
}

// check compares what was read with the descriptor.
func (v *verifier) check() error {
	got := fmt.Sprintf("sha256:%x", v.h.Sum(nil))
	if v.desc.Digest.Algorithm != "sha256" {
		return fmt.Errorf("%w: digest algorithm %q", ErrUnsupported, v.desc.Digest.Algorithm)
	}
	if got != v.desc.Digest.String() || v.n != v.desc.Size {
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
	// A size bounds the download; without one a registry could stream
	// forever. Every pusher (dockerd included) writes the real size.
	if m.Config.Size <= 0 {
		return nil, fmt.Errorf("%w: the config blob %s has size %d; a manifest must declare each blob's real size (push the plugin again)",
			ErrBadManifest, m.Config.Digest, m.Config.Size)
	}
	for _, l := range m.Layers {
		if l.Size <= 0 {
			return nil, fmt.Errorf("%w: layer %s has size %d; a manifest must declare each blob's real size (push the plugin again)",
				ErrBadManifest, l.Digest, l.Size)
		}
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
