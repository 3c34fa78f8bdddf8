package pack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestPlatformTag(t *testing.T) {
	tests := []struct{ tag, platform, want string }{
		{"1.0", "linux/amd64", "1.0-amd64"},
		{"latest", "linux/arm64", "latest-arm64"},
		{"1.0", "linux/arm/v7", "1.0-armv7"},
		{"1.0", "nonsense//", ""},
	}
	for _, tt := range tests {
		got, err := PlatformTag(tt.tag, tt.platform)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("PlatformTag(%q, %q) = %q, %v; want %q", tt.tag, tt.platform, got, err, tt.want)
		}
	}
}

func TestPushPlatforms(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	amd, arm := testDir(t), testDir(t)
	writeFiles(t, filepath.Join(arm, "rootfs"), map[string]string{"arch": "arm64"})
	images := []PlatformImage{
		{Platform: "linux/amd64", Image: mustImage(t, amd)},
		{Platform: "linux/arm64", Image: mustImage(t, arm)},
	}
	ref := host + "/multi/plug:1.0"
	res, err := PushPlatforms(ctx, ref, images, anon, WithIndex(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Platforms) != 2 || res.Platforms[1].Ref != host+"/multi/plug:1.0-arm64" || res.IndexDigest == "" {
		t.Fatalf("PushPlatforms = %+v", res)
	}
	// Each TAG-ARCH is a plain plugin, as dockerd needs.
	p, err := Fetch(ctx, res.Platforms[1].Ref, anon)
	if err != nil || p.Digest() != res.Platforms[1].Digest {
		t.Fatalf("Fetch(%s) = %v, %v", res.Platforms[1].Ref, p, err)
	}
	// The index resolves to the asked platform, the host's by default.
	for _, tt := range []struct {
		platform string
		want     int
	}{{"linux/arm64", 1}, {"linux/amd64", 0}} {
		p, err := Fetch(ctx, ref, anon, WithPlatform(tt.platform))
		if err != nil || p.Digest() != res.Platforms[tt.want].Digest {
			t.Errorf("Fetch(index, %s) = %v, %v; want %s", tt.platform, p, err, res.Platforms[tt.want].Digest)
		}
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		if _, err := Fetch(ctx, ref, anon); err != nil {
			t.Errorf("Fetch(index) for the host platform: %v", err)
		}
	}
	if _, err := Fetch(ctx, ref, anon, WithPlatform("linux/s390x")); err == nil {
		t.Error("Fetch(index, linux/s390x) succeeded; want a 'no plugin for platform' error")
	}
	// Without WithIndex, TAG itself is left alone.
	if _, err := PushPlatforms(ctx, host+"/multi/noindex:1", images, anon); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, host+"/multi/noindex:1", anon); err == nil {
		t.Error("TAG exists without WithIndex")
	}

	// One layout carrying both platforms.
	lay := filepath.Join(t.TempDir(), "layout")
	for _, pi := range images {
		if err := WriteLayoutPlatform(lay, pi.Image, pi.Platform); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := ReadLayout(lay, WithPlatform("linux/arm64"))
	if err != nil || lp.Digest() != res.Platforms[1].Digest {
		t.Errorf("ReadLayout(arm64) = %v, %v; want %s", lp, err, res.Platforms[1].Digest)
	}
}

// elf64 is a minimal ELF64 little-endian executable header for machine m
// (EM_X86_64 62, EM_AARCH64 183): all the entrypoint check reads.
func elf64(m uint16) string {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[19], h[20] = 2, byte(m), byte(m>>8), 1
	return string(h)
}

// elfPluginDir is testDir with its entrypoint, /bin/plug, made an ELF64
// header for machine m (see elf64).
func elfPluginDir(t *testing.T, m uint16) string {
	t.Helper()
	dir := testDir(t)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "bin", "plug"), []byte(elf64(m)), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPushPlatformsRefusesWrongArch(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t, nil)
	amd, arm := mustImage(t, elfPluginDir(t, 62)), mustImage(t, elfPluginDir(t, 183))
	tests := []struct {
		name   string
		images []PlatformImage
		want   string // "" = pushed
	}{
		{"right", []PlatformImage{{"linux/amd64", amd}, {"linux/arm64", arm}}, ""},
		{"same layers", []PlatformImage{{"linux/amd64", amd}, {"linux/arm64", mustImage(t, elfPluginDir(t, 62))}},
			"the plugins for linux/amd64 and linux/arm64 have the same layers"},
		{"swapped", []PlatformImage{{"linux/amd64", arm}, {"linux/arm64", amd}},
			"the plugin for linux/amd64 cannot run there: the entrypoint /bin/plug is arm64, not linux/amd64"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PushPlatforms(ctx, fmt.Sprintf("%s/multi/arch%d:1.0", host, i), tt.images, anon)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *ArchError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("PushPlatforms = %v, want an ArchError containing %q", err, tt.want)
			}
		})
	}
}
