package testenv

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is where Debian's busybox-static installs its static binary.
const BusyboxPath = "/usr/bin/busybox"

// busyboxEpoch is the fixed mtime of every entry in the base image, so the
// same busybox binary always gives the same image digest (and BuildKit's
// cache keys stay stable across test runs).
var busyboxEpoch = time.Unix(1700000000, 0).UTC()

// BusyboxImage builds a minimal single-layer OCI image from a static busybox
// binary at bin: /bin/busybox plus one symlink per applet (sh, ls, cat,
// echo, ...), /tmp and /etc, for the host platform. Base images cannot come
// from Docker Hub in tests; this one comes from Debian's busybox-static.
func BusyboxImage(bin string) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	out, err := exec.Command(bin, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	applets := strings.Fields(string(out))
	sort.Strings(applets)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime = busyboxEpoch
		h.Format = tar.FormatPAX
		return tw.WriteHeader(h)
	}
	for _, d := range []string{"bin/", "etc/", "root/", "tmp/", "usr/", "usr/bin/", "var/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode}); err != nil {
			return nil, err
		}
	}
	if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(data))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	for _, a := range applets {
		if a == "busybox" || strings.ContainsAny(a, "/") {
			continue
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\n")
	if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(passwd); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making busybox layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer, History: v1.History{
		Created:   v1.Time{Time: busyboxEpoch},
		CreatedBy: "dplug testenv: busybox-static",
	}})
	if err != nil {
		return nil, fmt.Errorf("appending busybox layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = runtime.GOARCH
	cf.Created = v1.Time{Time: busyboxEpoch}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = []string{"sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting busybox config: %w", err)
	}
	return img, nil
}

// WriteOCILayout writes img as the only image of a new OCI image layout at
// dir, tagged tag (org.opencontainers.image.ref.name), and returns its
// manifest digest.
func WriteOCILayout(dir string, img v1.Image, tag string) (v1.Hash, error) {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": tag,
	})); err != nil {
		return v1.Hash{}, fmt.Errorf("writing image to %s: %w", dir, err)
	}
	return img.Digest()
}

// BaseImage is a busybox base image written as an OCI layout for a test.
type BaseImage struct {
	Dir    string  // the OCI layout directory
	Digest v1.Hash // manifest digest of the image in it
	Image  v1.Image
}

// BuildContext returns the value for a named BuildKit build context
// (`--build-context NAME=<this>`): oci-layout:///DIR@sha256:...
func (b *BaseImage) BuildContext() string {
	return "oci-layout://" + b.Dir + "@" + b.Digest.String()
}

// BusyboxLayout makes the busybox base image from Debian's busybox-static
// as an OCI layout under a new t.TempDir. It skips (fails in CI) when
// busybox-static is not installed.
func BusyboxLayout(t testing.TB) *BaseImage {
	t.Helper()
	img := busybox(t)
	dir := t.TempDir()
	dig, err := WriteOCILayout(dir, img, "latest")
	if err != nil {
		t.Fatal(err)
	}
	return &BaseImage{Dir: dir, Digest: dig, Image: img}
}

// busybox is BusyboxImage from Debian's busybox-static; it skips (fails in
// CI) when busybox-static is not installed.
func busybox(t testing.TB) v1.Image {
	t.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		Unavailable(t, "%s not found (install: apt-get install busybox-static)", BusyboxPath)
	}
	img, err := BusyboxImage(BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// PushImage pushes img to ref (e.g. 127.0.0.1:PORT/base/busybox:latest) over
// plain HTTP, for a loopback registry.
func PushImage(t testing.TB, img v1.Image, ref string) {
	t.Helper()
	if err := PushRef(img, ref); err != nil {
		t.Fatal(err)
	}
}

// PushRef is PushImage without a test.
func PushRef(img v1.Image, ref string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", ref, err)
	}
	if err := remote.Write(r, img); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// WriteDockerArchive writes img as a `docker load` tarball tagged ref.
func WriteDockerArchive(path string, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", ref, err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
