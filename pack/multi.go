package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
	h, _, _ := v1.SHA256(bytesReader(raw))
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
