package scaffold

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedBuildkitd()
	os.Exit(code)
}

// TestBuildWithBuildKit builds each example directory, as it is in the
// repository, and a fresh volume scaffold (its own module) with the real
// buildkitd into a plugin directory, with the Go image supplied as the named
// context golang:1.26 (no Docker Hub). The rootfs must hold just the
// static binary, which must then serve /Plugin.Activate. Needs root, runc,
// buildkitd and network access to the Go module proxy.
func TestBuildWithBuildKit(t *testing.T) {
	testenv.Short(t)
	bk := testenv.SharedBuildkitd(t)
	goimg := testenv.GoImage(t)

	scaffolded := filepath.Join(t.TempDir(), "myvol")
	if _, err := Write(scaffolded, "volume", WithName("myvol")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, bin, typ string
		goImage             string // --build-arg GO_IMAGE, "" for the default golang:1.26
	}{
		{"example-volume", filepath.Join("..", "examples", "volume"), "example-volume", "volume", ""},
		{"example-authz", filepath.Join("..", "examples", "authz"), "example-authz", "authz", ""},
		{"example-ipam", filepath.Join("..", "examples", "ipam"), "example-ipam", "ipam", ""},
		// The other documented way: name any image with GO_IMAGE; a named
		// context of that name still wins over the registry.
		{"scaffold-volume", scaffolded, "myvol", "volume", "dplug.test/toolchain/go:local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := buildPlugin(t, bk.Addr, goimg, tt.dir, tt.goImage)
			entries, err := os.ReadDir(filepath.Join(out, "rootfs"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) != 1 || names[0] != tt.bin {
				t.Errorf("rootfs holds %v, want just %s", names, tt.bin)
			}
			want, err := os.ReadFile(filepath.Join(tt.dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(filepath.Join(out, "config.json")); err != nil || !bytes.Equal(got, want) {
				t.Errorf("plugin config.json differs from the project's (%v)", err)
			}
			runPlugin(t, filepath.Join(out, "rootfs", tt.bin), tt.typ)
		})
	}
}

// buildPlugin builds the project in dir with buildkitd at addr into a new
// plugin directory and returns it. goImage, when set, is passed as
// GO_IMAGE and names the Go image's context; otherwise golang:1.26 does.
func buildPlugin(t *testing.T, addr string, goimg *testenv.BaseImage, dir, goImage string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin")
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args, name := proxyArgs(), testenv.GoImageName
	if goImage != "" {
		args["GO_IMAGE"], name = goImage, goImage
	}
	_, err := build.Run(ctx, dir, &dest.Dir{Path: out},
		build.WithAddr(addr),
		build.WithBuildContexts(map[string]string{name: goimg.BuildContext()}),
		build.WithBuildArgs(args),
		build.WithProgress("plain", &progress))
	if err != nil {
		t.Fatalf("building %s: %v\n%s", dir, err, progress.String())
	}
	return out
}

// proxyArgs passes the host's GOPROXY into the build, when set.
func proxyArgs() map[string]string {
	args := map[string]string{}
	if p := os.Getenv("GOPROXY"); p != "" {
		args["GOPROXY"] = p
	}
	return args
}
