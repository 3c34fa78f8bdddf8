package build_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/pack"
)

// A Dockerfile with no RUN builds for any platform without emulation.
const perArch = "FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch.txt\n"

func TestBuildMultiPlatform(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": perArch, "amd64.txt": "amd64\n", "arm64.txt": "arm64\n"})
	plats := build.WithPlatforms("linux/amd64", "linux/arm64")

	t.Run("dir", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "plugins")
		res, err := build.Run(context.Background(), ctxDir, &dest.Dir{Path: out}, e.opts(t, plats)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"amd64", "arm64"} {
			dir := filepath.Join(out, "linux_"+arch)
			if got := readFile(t, filepath.Join(dir, "rootfs/arch.txt")); got != arch+"\n" {
				t.Errorf("%s: arch.txt = %q", arch, got)
			}
			if got := readFile(t, filepath.Join(dir, "config.json")); !strings.Contains(got, "dplug test volume plugin") {
				t.Errorf("%s: config.json = %q", arch, got)
			}
			if !strings.Contains(res.Output, dir) {
				t.Errorf("Output %q lacks %s", res.Output, dir)
			}
		}
		assertNoStaging(t, filepath.Dir(out))
	})

	t.Run("push", func(t *testing.T) {
		host := testenv.StartRegistry(t).Host
		ref := host + "/plugins/multi:1.0"
		res, err := build.Run(context.Background(), ctxDir, &dest.Registry{Ref: ref, Options: []pack.Option{pack.WithIndex(true)}}, e.opts(t, plats)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"amd64", "arm64"} {
			tagged := ref + "-" + arch
			if !strings.Contains(res.Output, tagged+"@sha256:") {
				t.Errorf("Output %q lacks %s@sha256:", res.Output, tagged)
			}
			p, err := pack.Fetch(context.Background(), tagged)
			if err != nil {
				t.Fatal(err)
			}
			if got := rootfsFiles(t, p)["arch.txt"]; got != arch+"\n" {
				t.Errorf("%s: arch.txt = %q", tagged, got)
			}
			// The index at the plain tag resolves to the asked platform.
			p, err = pack.Fetch(context.Background(), ref, pack.WithPlatform("linux/"+arch))
			if err != nil {
				t.Fatal(err)
			}
			if got := rootfsFiles(t, p)["arch.txt"]; got != arch+"\n" {
				t.Errorf("%s via the index: arch.txt = %q", arch, got)
			}
		}
	})

	t.Run("oci layout", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "layout")
		if _, err := build.Run(context.Background(), ctxDir, &dest.OCILayout{Path: out}, e.opts(t, plats)...); err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"amd64", "arm64"} {
			p, err := pack.ReadLayout(out, pack.WithPlatform("linux/"+arch))
			if err != nil {
				t.Fatal(err)
			}
			if got := rootfsFiles(t, p)["arch.txt"]; got != arch+"\n" {
				t.Errorf("%s: arch.txt = %q", arch, got)
			}
		}
		assertNoStaging(t, filepath.Dir(out))
	})

	t.Run("single platform oci layout records it", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "layout")
		if _, err := build.Run(context.Background(), ctxDir, &dest.OCILayout{Path: out}, e.opts(t, build.WithPlatforms("linux/arm64"))...); err != nil {
			t.Fatal(err)
		}
		idx, err := os.ReadFile(filepath.Join(out, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		var index struct {
			Manifests []struct {
				Platform *struct{ OS, Architecture string }
			}
		}
		if err := json.Unmarshal(idx, &index); err != nil || len(index.Manifests) != 1 || index.Manifests[0].Platform == nil ||
			index.Manifests[0].Platform.Architecture != "arm64" || index.Manifests[0].Platform.OS != "linux" {
			t.Fatalf("index.json %s (%v): want one manifest with platform linux/arm64", idx, err)
		}
		p, err := pack.ReadLayout(out, pack.WithPlatform("linux/arm64"))
		if err != nil {
			t.Fatal(err)
		}
		if got := rootfsFiles(t, p)["arch.txt"]; got != "arm64\n" {
			t.Errorf("arch.txt = %q", got)
		}
	})

	t.Run("single-platform destination", func(t *testing.T) {
		_, err := build.Run(context.Background(), ctxDir, &dest.Store{Root: t.TempDir(), Name: "multi"}, e.opts(t, plats)...)
		if err == nil || !strings.Contains(err.Error(), "takes one platform") {
			t.Errorf("error %v, want one platform only", err)
		}
	})
}
