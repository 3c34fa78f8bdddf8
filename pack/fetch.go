package pack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fetch resolves the registry reference ref to a plugin: it reads and
// checks the manifest (an index is resolved to the plugin for the platform
// chosen by WithPlatform, the host's by default) and returns a Plugin whose
// blobs are downloaded when read.
func Fetch(ctx context.Context, ref string, opts ...Option) (*Plugin, error) {
	o := makeOptions(opts...)
	r, err := parseRef(ref, o)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	o.progress(Progress{Phase: PhaseConnecting})
	ropts, tr, err := remoteOptions(ctx, r.Context(), false, nil, o)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, classify(r.String(), err))
	}
	raw, mt, dg := desc.Manifest, desc.MediaType, desc.Digest
	if mt.IsIndex() {
		idx, err := v1.ParseIndexManifest(strings.NewReader(string(raw)))
		if err != nil {
			return nil, fmt.Errorf("pulling %s: parsing index: %w", ref, err)
		}
		child, err := pickPlatform(r.String(), idx, o.platform)
		if err != nil {
			return nil, fmt.Errorf("pulling %s: %w", ref, err)
		}
		o.log.Debug("index resolved", "ref", r.String(), "platform", child.Platform, "digest", child.Digest)
		cd, err := remote.Get(r.Context().Digest(child.Digest.String()), ropts...)
		if err != nil {
			return nil, fmt.Errorf("pulling %s: %w", ref, classify(r.String(), err))
		}
		raw, mt, dg = cd.Manifest, cd.MediaType, cd.Digest
	}
	m, err := parseManifest(mt, raw)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	client := &http.Client{Transport: tr, CheckRedirect: checkRedirect}
	return &Plugin{
		ref:      r.String(),
		digest:   dg,
		manifest: m,
		blobs:    &registryBlobs{client: client, repo: r.Context(), ref: r.String(), progress: o.progress},
		log:      o.log,
		limits:   o.sizeLimits(),
	}, nil
}

// checkRedirect stops a client after maxRedirects redirects (redirectLimit
// does so too, for clients dplug does not build).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: stopped after %d redirects (last to %s); the registry redirects in a loop",
			ErrTooManyRedirects, maxRedirects, req.URL.Redacted())
	}
	return nil
}

// registryBlobs downloads blobs from one repository.
type registryBlobs struct {
	client   *http.Client
	repo     name.Repository
	ref      string
	progress func(Progress)
}

func (b *registryBlobs) blob(ctx context.Context, desc v1.Descriptor) (io.ReadCloser, error) {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", b.repo.Scheme(), b.repo.RegistryStr(), b.repo.RepositoryStr(), desc.Digest)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, classify(b.ref, err)
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		resp.Body.Close()
		return nil, classify(b.ref+"@"+desc.Digest.String(), err)
	}
	if desc.MediaType == MediaTypeConfig {
		return resp.Body, nil
	}
	return &progressReader{rc: resp.Body, fn: b.progress, total: desc.Size}, nil
}

// progressReader reports bytes read as pull progress.
type progressReader struct {
	rc       io.ReadCloser
	fn       func(Progress)
	n, total int64
	calls    int
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	if p.calls++; p.calls%32 == 0 || err != nil {
		p.fn(Progress{Phase: PhasePulling, Complete: p.n, Total: p.total})
	}
	return n, err
}

func (p *progressReader) Close() error { return p.rc.Close() }

// hostPlatform is the platform of this process, "os/arch[/variant]".
func hostPlatform() string {
	p := runtime.GOOS + "/" + runtime.GOARCH
	if runtime.GOARCH == "arm" {
		p += "/v7"
	}
	return p
}

// pickPlatform selects the manifest for platform (host's if "") from idx.
func pickPlatform(ref string, idx *v1.IndexManifest, platform string) (v1.Descriptor, error) {
	if platform == "" {
		platform = hostPlatform()
	}
	want, err := v1.ParsePlatform(platform)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("parsing platform %q: %w", platform, err)
	}
	var have []string
	for _, d := range idx.Manifests {
		if d.Platform == nil {
			continue
		}
		have = append(have, d.Platform.String())
		if d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture &&
			(want.Variant == "" || d.Platform.Variant == want.Variant) && !d.MediaType.IsIndex() {
			return d, nil
		}
	}
	if len(have) == 0 && len(idx.Manifests) == 1 && idx.Manifests[0].MediaType != types.OCIImageIndex {
		return idx.Manifests[0], nil
	}
	return v1.Descriptor{}, fmt.Errorf("%w: %s has no plugin for platform %s (it has: %s); choose one with --platform",
		ErrNotFound, ref, platform, strings.Join(have, ", "))
}
