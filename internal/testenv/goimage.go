package testenv

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/gofrs/flock"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// GoImageName is the image the examples' and scaffolds' Dockerfiles build
// with (ARG GO_IMAGE=golang:1.26): tests hand GoImage to BuildKit under this
// name as a named build context, so no registry is involved.
const GoImageName = "golang:1.26"

// CACertsPath is Debian's CA bundle, copied into the Go image so that module
// downloads inside RUN can verify the Go proxy.
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// goImageFormat changes whenever the image's layout or config below changes,
// so a stale cache entry is never reused.
const goImageFormat = "dplug-goimage-v1"

// GoImage returns an OCI layout holding a Go toolchain image made from this
// machine: the GOROOT of the go command on PATH at /usr/local/go, Debian's
// busybox-static at /bin (sh and the other applets), the CA bundle, and the
// environment of Docker Hub's golang images (GOPATH=/go, PATH with
// /usr/local/go/bin; GOTOOLCHAIN=local so a too-new go.mod fails clearly
// instead of downloading a toolchain). It is ~250 MB, so it is built once
// and cached, content-addressed, under DPLUG_TEST_CACHE (default: the user
// cache dir's dplug-test/), and shared by every test and process. It skips
// (fails in CI) when busybox-static or the CA bundle are missing.
func GoImage(t testing.TB) *BaseImage {
	t.Helper()
	for _, p := range []struct{ path, pkg string }{{BusyboxPath, "busybox-static"}, {CACertsPath, "ca-certificates"}} {
		if _, err := os.Stat(p.path); err != nil {
			Unavailable(t, "%s not found (install: apt-get install %s)", p.path, p.pkg)
		}
	}
	RequireBinary(t, "go", "https://go.dev/doc/install")
	img, err := MakeGoImage(GoImageCacheDir())
	if err != nil {
		t.Fatalf("making the Go toolchain image: %v", err)
	}
	return img
}

// MakeGoImage is GoImage outside a test (the demo script uses it through
// internal/testenv/cmd/goimage): it returns the cached image under cacheDir,
// building it first if needed.
func MakeGoImage(cacheDir string) (*BaseImage, error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("running go env: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return nil, fmt.Errorf("go env GOROOT GOVERSION printed %q", out)
	}
	return cachedGoImage(cacheDir, f[0], f[1])
}

// GoImageCacheDir is where GoImage keeps its layouts: DPLUG_TEST_CACHE, or
// dplug-test/ in the user cache dir.
func GoImageCacheDir() string {
	if d := os.Getenv("DPLUG_TEST_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "dplug-test")
	}
	return filepath.Join(os.TempDir(), "dplug-test-cache")
}

// cachedGoImage returns the layout for goroot from cacheDir, building it
// under a file lock when it is missing.
func cachedGoImage(cacheDir, goroot, goversion string) (*BaseImage, error) {
	key, err := goImageKey(goroot, goversion)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cacheDir, "goimage-"+key)
	if img, err := openGoImage(dir); err == nil {
		return img, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	lock := flock.New(dir + ".lock")
	if err := lock.Lock(); err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	defer lock.Unlock()
	if img, err := openGoImage(dir); err == nil { // built while we waited
		return img, nil
	}
	tmp, err := os.MkdirTemp(cacheDir, ".goimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := writeGoImage(tmp, goroot, goversion); err != nil {
		return nil, err
	}
	os.RemoveAll(dir) // an incomplete leftover
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return openGoImage(dir)
}

// goImageKey hashes what the image is made of: the format, the toolchain,
// and the identity (size, mtime) of the files copied from the host.
func goImageKey(goroot, goversion string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, goImageFormat, goroot, goversion, runtime.GOARCH)
	for _, p := range []string{BusyboxPath, CACertsPath, filepath.Join(goroot, "VERSION"), filepath.Join(goroot, "bin", "go")} {
		fi, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, p, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// openGoImage opens a finished layout; the marker file is written last.
func openGoImage(dir string) (*BaseImage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "dplug-digest"))
	if err != nil {
		return nil, err
	}
	dig, err := v1.NewHash(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	img, err := p.Image(dig)
	if err != nil {
		return nil, err
	}
	return &BaseImage{Dir: dir, Digest: dig, Image: img}, nil
}

// writeGoImage writes the layout into dir: one uncompressed layer streamed
// straight into its blob file (no 250 MB in memory, no compression time),
// then the config, the manifest and index.json.
func writeGoImage(dir, goroot, goversion string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(blobs, ".layer-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, sum)}
	if err := writeGoLayer(cw, goroot); err != nil {
		tmp.Close()
		return fmt.Errorf("writing layer: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	layerDigest := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum.Sum(nil))}
	if err := os.Rename(tmp.Name(), filepath.Join(blobs, layerDigest.Hex)); err != nil {
		return err
	}

	cfg := v1.ConfigFile{
		Architecture: runtime.GOARCH,
		OS:           "linux",
		Created:      v1.Time{Time: busyboxEpoch},
		Config: v1.Config{
			Env: []string{
				"PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"GOPATH=/go",
				"GOTOOLCHAIN=local",
				"GOLANG_VERSION=" + strings.TrimPrefix(goversion, "go"),
			},
			WorkingDir: "/go",
			Cmd:        []string{"sh"},
		},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{layerDigest}},
		History: []v1.History{{
			Created:   v1.Time{Time: busyboxEpoch},
			CreatedBy: "dplug testenv: host " + goversion + " + busybox-static",
		}},
	}
	cfgData, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(cfgData))
	if err != nil {
		return err
	}
	if err := p.WriteBlob(cfgDigest, io.NopCloser(bytes.NewReader(cfgData))); err != nil {
		return err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: cfgSize, Digest: cfgDigest},
		Layers:        []v1.Descriptor{{MediaType: types.OCIUncompressedLayer, Size: cw.n, Digest: layerDigest}},
	}
	mData, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mDigest, mSize, err := v1.SHA256(bytes.NewReader(mData))
	if err != nil {
		return err
	}
	if err := p.WriteBlob(mDigest, io.NopCloser(bytes.NewReader(mData))); err != nil {
		return err
	}
	if err := p.AppendDescriptor(v1.Descriptor{
		MediaType: types.OCIManifestSchema1, Size: mSize, Digest: mDigest,
		Platform:    &v1.Platform{OS: "linux", Architecture: runtime.GOARCH},
		Annotations: map[string]string{"org.opencontainers.image.ref.name": "latest"},
	}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "dplug-digest"), []byte(mDigest.String()+"\n"), 0o644)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writeGoLayer writes the image's single layer as a tar stream: sorted
// entries, fixed mtimes, root-owned, so the same inputs give the same digest.
func writeGoLayer(w io.Writer, goroot string) error {
	tw := tar.NewWriter(w)
	hdr := func(h *tar.Header) error {
		h.ModTime = busyboxEpoch
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.AccessTime, h.ChangeTime = busyboxEpoch, busyboxEpoch
		h.Format = tar.FormatPAX
		return tw.WriteHeader(h)
	}
	file := func(name string, mode int64, data []byte) error {
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	dirs := []string{"bin/", "etc/", "etc/ssl/", "etc/ssl/certs/", "go/", "go/bin/", "go/pkg/", "go/src/",
		"root/", "root/.cache/", "tmp/", "usr/", "usr/bin/", "usr/local/", "var/"}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode}); err != nil {
			return err
		}
	}
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return err
	}
	if err := file("bin/busybox", 0o755, bb); err != nil {
		return err
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return fmt.Errorf("listing busybox applets: %w", err)
	}
	applets := strings.Fields(string(out))
	sort.Strings(applets)
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}); err != nil {
			return err
		}
	}
	certs, err := os.ReadFile(CACertsPath)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"etc/group", []byte("root:x:0:\n")},
		{"etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n")},
		{"etc/ssl/certs/ca-certificates.crt", certs},
	} {
		if err := file(f.name, 0o644, f.data); err != nil {
			return err
		}
	}
	return addTree(tw, hdr, goroot, "usr/local/go")
}

// addTree adds the directory src as dst/ to tw, in lexical order, skipping
// GOROOT/test (the toolchain's own test suite, not needed to build).
func addTree(tw *tar.Writer, hdr func(*tar.Header) error, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "test" && d.IsDir() {
			return filepath.SkipDir
		}
		name := dst
		if rel != "." {
			name = dst + "/" + filepath.ToSlash(rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := int64(info.Mode().Perm())
		switch {
		case d.IsDir():
			return hdr(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode})
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777})
		case info.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: info.Size()}); err != nil {
				return err
			}
			n, err := io.Copy(tw, f)
			if err == nil && n != info.Size() {
				err = errors.New("file changed size while being read")
			}
			if err != nil {
				return fmt.Errorf("adding %s: %w", p, err)
			}
			return nil
		default:
			return nil // sockets, devices: none belong in a GOROOT
		}
	})
}
