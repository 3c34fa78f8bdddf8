package scaffold

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
)

// archs are the platforms the multi-platform tests build for: the two
// plugin platforms that matter, whatever the host is.
var archs = []string{"amd64", "arm64"}

// buildMulti builds the project in dir for linux/amd64 and linux/arm64 at
// once into dest, with the Go image as the named context golang:1.26.
func buildMulti(t *testing.T, addr string, goimg *testenv.BaseImage, dir string, to dest.Dest) (*build.Result, string, error) {
	t.Helper()
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := build.Run(ctx, dir, to,
		build.WithAddr(addr),
		build.WithPlatforms("linux/amd64", "linux/arm64"),
		build.WithBuildContexts(map[string]string{testenv.GoImageName: goimg.BuildContext()}),
		build.WithBuildArgs(proxyArgs()),
		build.WithProgress("plain", &progress))
	return res, progress.String(), err
}

// checkArch asserts that the plugin directory dir's entrypoint is an ELF
// binary for arch.
func checkArch(t *testing.T, dir, arch string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := plugin.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	r := entrypoint.Check(filepath.Join(dir, "rootfs"), cfg, "linux/"+arch)
	if r.Verdict != entrypoint.Match || r.Arch != arch {
		t.Errorf("%s: %s (%s), want an %s binary", dir, r, r.Machine, arch)
	}
}

// TestBuildMultiPlatform builds every scaffold type for linux/amd64 and
// linux/arm64 in one build each, with no emulation (the templates
// cross-compile), and checks each rootfs's entrypoint machine. Then each
// example is built the same way and pushed to a loopback registry as
// TAG-amd64, TAG-arm64 and an index at TAG; pulling each tag, and the
// index for each platform, gives a plugin whose entrypoint is for that
// platform. Needs root, runc, buildkitd, docker-registry and the Go module
// proxy.
func TestBuildMultiPlatform(t *testing.T) {
	testenv.Short(t)
	bk := testenv.SharedBuildkitd(t)
	goimg := testenv.GoImage(t)

	for _, typ := range Types() {
		t.Run("scaffold-"+typ, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ma-"+typ)
			if _, err := Write(dir, typ, WithName("ma-"+typ)); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "plugins")
			if _, progress, err := buildMulti(t, bk.Addr, goimg, dir, &dest.Dir{Path: out}); err != nil {
				t.Fatalf("building %s for two platforms: %v\n%s", typ, err, progress)
			}
			for _, arch := range archs {
				checkArch(t, filepath.Join(out, "linux_"+arch), arch)
			}
		})
	}

	reg := testenv.StartRegistry(t)
	for _, typ := range []string{"volume", "authz", "ipam"} {
		t.Run("example-"+typ, func(t *testing.T) {
			ref := reg.Host + "/examples/" + typ + ":1.0"
			res, progress, err := buildMulti(t, bk.Addr, goimg, filepath.Join("..", "examples", typ),
				&dest.Registry{Ref: ref, Options: []pack.Option{pack.WithIndex(true)}})
			if err != nil {
				t.Fatalf("building and pushing %s: %v\n%s", typ, err, progress)
			}
			for _, arch := range archs {
				if !strings.Contains(res.Output, ref+"-"+arch+"@sha256:") {
					t.Errorf("output %q lacks %s-%s", res.Output, ref, arch)
				}
			}
			ctx := context.Background()
			for _, arch := range archs {
				// The TAG-ARCH tag, what dockerd installs ...
				dir := filepath.Join(t.TempDir(), "tag-"+arch)
				if err := pack.Pull(ctx, ref+"-"+arch, dir); err != nil {
					t.Fatal(err)
				}
				checkArch(t, dir, arch)
				// ... and the index, as `dplug pull --platform` reads it.
				dir = filepath.Join(t.TempDir(), "index-"+arch)
				if err := pack.Pull(ctx, ref, dir, pack.WithPlatform("linux/"+arch)); err != nil {
					t.Fatal(err)
				}
				checkArch(t, dir, arch)
			}
		})
	}
}

// naive is the Dockerfile most Go projects start with: the build stage is
// the target platform's, so without emulation a multi-platform build
// compiles for the build machine every time.
const naive = `ARG GO_IMAGE=golang:1.26
FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY main.go go.mod ./
RUN CGO_ENABLED=0 go build -o /out/plug .
FROM scratch
COPY --from=build /out/plug /plug
`

// TestBuildRefusesWrongArch: a multi-platform build of a Dockerfile that
// does not cross-compile, on a single-platform Go image, gives the same
// binary for every platform; the build is refused with the two ways to fix
// it, whatever the destination.
func TestBuildRefusesWrongArch(t *testing.T) {
	testenv.Short(t)
	bk := testenv.SharedBuildkitd(t)
	goimg := testenv.GoImage(t)
	dir := t.TempDir()
	files := map[string]string{
		"Dockerfile":  naive,
		"main.go":     "package main\n\nfunc main() {}\n",
		"go.mod":      "module example.com/plug\n\ngo 1.22\n",
		"config.json": `{"Description":"naive","Documentation":"https://example.invalid","Entrypoint":["/plug"],"Interface":{"Socket":"p.sock","Types":["docker.volumedriver/1.0"]}}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := testenv.StartRegistry(t)
	for _, to := range []dest.Dest{
		&dest.Dir{Path: filepath.Join(t.TempDir(), "out")},
		&dest.Registry{Ref: reg.Host + "/naive/plug:1.0"},
	} {
		t.Run(strings.Fields(to.String())[0], func(t *testing.T) {
			_, progress, err := buildMulti(t, bk.Addr, goimg, dir, to)
			var ae *build.ArchError
			if !errors.As(err, &ae) {
				t.Fatalf("got %v, want an ArchError\n%s", err, progress)
			}
			msg := err.Error()
			t.Logf("the error:\n%s", msg)
			for _, want := range []string{"the entrypoint /plug is", "FROM --platform=$BUILDPLATFORM", "qemu-user-static"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			// The cause, before the build: the single-platform Go image
			// is the base of the arm64 build stage.
			other := map[string]string{"linux/amd64": "linux/arm64", "linux/arm64": "linux/amd64"}[entrypoint.Host()]
			if want := "warning: build context " + testenv.GoImageName + " is a single-platform image (" + entrypoint.Host() + "), but line 2 of Dockerfile uses it for " + other + " too"; !strings.Contains(progress, want) {
				t.Errorf("progress lacks %q:\n%s", want, progress)
			}
			if strings.HasPrefix(to.String(), "directory") {
				if _, err := os.Stat(strings.TrimPrefix(to.String(), "directory ")); !os.IsNotExist(err) {
					t.Errorf("a refused build left %s behind (%v)", to, err)
				}
			}
		})
	}
	if _, err := pack.Fetch(context.Background(), reg.Host+"/naive/plug:1.0-arm64"); err == nil {
		t.Error("the refused build pushed an arm64 tag")
	}
}
