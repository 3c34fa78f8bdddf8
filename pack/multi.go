package pack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/plugin"
)

// PlatformImage is one plugin of a multi-platform push: Platform is
// "os/arch[/variant]" (e.g. linux/arm64).
type PlatformImage struct {
	Platform string
	Image    v1.Image
}

// PlatformResult is where one platform's plugin went.
type PlatformResult struct {
	Platform string `json:"platform"`
	Ref      string `json:"ref"`
	Digest   string `json:"digest"`
}

// MultiResult is what PushPlatforms pushed.
type MultiResult struct {
	Platforms []PlatformResult `json:"platforms"`
	// Index is the reference and digest of the index at TAG, if one was
	// pushed (WithIndex).
	Index       string `json:"index,omitempty"`
	IndexDigest string `json:"indexDigest,omitempty"`
}

// PlatformTag is the tag a platform's plugin gets in a multi-platform push:
// TAG-ARCH, with the variant appended to the architecture (1.0-amd64,
// 1.0-arm64, 1.0-armv7). That is what dockerd users install, since
// `docker plugin install` cannot resolve an index.
func PlatformTag(tag, platform string) (string, error) {
	p, err := v1.ParsePlatform(platform)
	if err != nil || p.Architecture == "" {
		return "", fmt.Errorf("parsing platform %q: want os/arch[/variant]", platform)
	}
	return tag + "-" + p.Architecture + p.Variant, nil
}

// PushPlatforms pushes one plugin per platform to REPO:TAG-ARCH (see
// PlatformTag) and, with WithIndex(true), a Docker manifest list at
// REPO:TAG listing them with their platforms, for tools that understand
// indexes (dplug pull/install pick the host's platform from it; dockerd
// cannot install from it, so it is off by default).
func PushPlatforms(ctx context.Context, ref string, images []PlatformImage, opts ...Option) (*MultiResult, error) {
	o := makeOptions(opts...)
	r, err := parseRef(ref, o)
	if err != nil {
		return nil, fmt.Errorf("pushing %s: %w", ref, err)
	}
	tag, ok := r.(name.Tag)
	if !ok {
		return nil, fmt.Errorf("pushing %s: a multi-platform push needs a tag, not a digest", ref)
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("pushing %s: no platforms", ref)
	}
	if err := CheckPlatforms(images); err != nil {
		return nil, fmt.Errorf("pushing %s: %w", ref, err)
	}
	res := &MultiResult{}
	seen := map[string]bool{}
	var manifests []indexEntry
	for _, pi := range images {
		t, err := PlatformTag(tag.TagStr(), pi.Platform)
		if err != nil {
			return nil, fmt.Errorf("pushing %s: %w", ref, err)
		}
		if seen[t] {
			return nil, fmt.Errorf("pushing %s: platform %s given twice", ref, pi.Platform)
		}
		seen[t] = true
		pref := tag.Context().Tag(t).String()
		dg, err := Push(ctx, pi.Image, pref, opts...)
		if err != nil {
			return nil, err
		}
		res.Platforms = append(res.Platforms, PlatformResult{Platform: pi.Platform, Ref: pref, Digest: dg})
		raw, err := pi.Image.RawManifest()
		if err != nil {
			return nil, fmt.Errorf("pushing %s: %w", ref, err)
		}
		mt, err := pi.Image.MediaType()
		if err != nil {
			return nil, fmt.Errorf("pushing %s: %w", ref, err)
		}
		p, _ := v1.ParsePlatform(pi.Platform)
		manifests = append(manifests, indexEntry{MediaType: mt, Size: int64(len(raw)), Digest: dg,
			Platform: indexPlatform{Architecture: p.Architecture, OS: p.OS, Variant: p.Variant}})
	}
	if !o.index {
		return res, nil
	}
	raw, err := json.Marshal(manifestList{SchemaVersion: 2, MediaType: types.DockerManifestList, Manifests: manifests})
	if err != nil {
		return nil, err
	}
	ropts, _, err := remoteOptions(ctx, r.Context(), true, nil, o)
	if err != nil {
		return nil, fmt.Errorf("pushing %s: %w", ref, err)
	}
	if err := remote.Put(tag, rawManifest{raw: raw, mt: types.DockerManifestList}, ropts...); err != nil {
		return nil, fmt.Errorf("pushing index %s: %w", ref, classify(tag.String(), err))
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	res.Index, res.IndexDigest = tag.String(), h.String()
	return res, nil
}

// manifestList is a Docker manifest list (schema 2 index).
type manifestList struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     types.MediaType `json:"mediaType"`
	Manifests     []indexEntry    `json:"manifests"`
}

type indexEntry struct {
	MediaType types.MediaType `json:"mediaType"`
	Size      int64           `json:"size"`
	Digest    string          `json:"digest"`
	Platform  indexPlatform   `json:"platform"`
}

type indexPlatform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// rawManifest is a Taggable for bytes we serialised ourselves.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// WriteLayoutPlatform is WriteLayout recording the plugin's platform
// ("os/arch[/variant]") in the layout's index, so that one layout can carry
// a plugin per platform and ReadLayout/WithPlatform choose among them.
func WriteLayoutPlatform(path string, img v1.Image, platform string) error {
	p, err := v1.ParsePlatform(platform)
	if err != nil || p.Architecture == "" || strings.Count(platform, "/") > 2 {
		return fmt.Errorf("writing OCI layout %s: parsing platform %q: want os/arch[/variant]", path, platform)
	}
	return writeLayout(path, img, layout.WithPlatform(*p))
}

// ArchError is a plugin labelled with a platform its entrypoint cannot run
// on; the push was refused. Result is the check's finding.
type ArchError struct {
	Platform string
	Result   *entrypoint.Result // nil when two platforms hold the same layers
	Same     string             // the other platform with the same layers
}

func (e *ArchError) Error() string {
	if e.Result == nil {
		return fmt.Sprintf("the plugins for %s and %s have the same layers: one of them holds a binary for the other's architecture (a build that ignored TARGETOS/TARGETARCH)", e.Same, e.Platform)
	}
	return fmt.Sprintf("the plugin for %s cannot run there: %v", e.Platform, &entrypoint.MismatchError{Result: e.Result, Platform: e.Platform})
}

// CheckPlatforms refuses a multi-platform set where two platforms have the
// same layers (a wrong-architecture build, since a plugin's entrypoint is a
// binary or runs one) or where a platform's entrypoint is for another
// architecture (see CheckImage). Entrypoints whose architecture cannot be
// determined pass.
func CheckPlatforms(images []PlatformImage) error {
	seen := map[string]string{}
	for _, pi := range images {
		ls, err := pi.Image.Layers()
		if err != nil {
			return err
		}
		var key []string
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			key = append(key, d.String())
		}
		k := strings.Join(key, ",")
		if other, ok := seen[k]; ok {
			return &ArchError{Platform: pi.Platform, Same: other}
		}
		seen[k] = pi.Platform
	}
	for _, pi := range images {
		r, err := CheckImage(pi.Image, pi.Platform)
		if err != nil {
			return err
		}
		if r.Verdict == entrypoint.Mismatch {
			return &ArchError{Platform: pi.Platform, Result: r}
		}
	}
	return nil
}

// CheckImage checks, statically, the entrypoint of the plugin img against
// platform (os/arch[/variant]; "" for the host), reading its layers without
// extracting them.
func CheckImage(img v1.Image, platform string) (*entrypoint.Result, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading plugin config: %w", err)
	}
	cfg, err := plugin.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing plugin config: %w", err)
	}
	if pi, ok := img.(*pluginImage); ok && pi.rootfs != "" {
		// Packed from a directory here: look there rather than
		// decompress the layer (which a cached layer does not even have).
		return entrypoint.Check(pi.rootfs, cfg, platform), nil
	}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var rs []io.Reader
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("reading layer: %w", err)
		}
		defer rc.Close()
		rs = append(rs, rc)
	}
	fsys, err := entrypoint.Tar(rs...)
	if err != nil {
		return nil, err
	}
	return entrypoint.CheckFS(fsys, cfg, platform), nil
}

// LayoutPlatform is the platform (os/arch[/variant]) the OCI layout at
// path records for the plugin ReadLayout would pick from it with the same
// options; "" when it records none.
func LayoutPlatform(path string, opts ...Option) (string, error) {
	o := makeOptions(opts...)
	p, err := layout.FromPath(path)
	if err != nil {
		return "", fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return "", fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", fmt.Errorf("reading OCI layout %s: %w", path, err)
	}
	switch len(im.Manifests) {
	case 0:
		return "", nil
	case 1:
		return platformOf(im.Manifests[0]), nil
	}
	d, err := pickPlatform(path, im, o.platform)
	if err != nil {
		return "", err
	}
	return platformOf(d), nil
}

func platformOf(d v1.Descriptor) string {
	if d.Platform == nil || d.Platform.Architecture == "" {
		return ""
	}
	s := d.Platform.OS + "/" + d.Platform.Architecture
	if d.Platform.Variant != "" {
		s += "/" + d.Platform.Variant
	}
	return s
}
