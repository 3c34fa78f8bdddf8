package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
)

// The architecture checks of push, pull and install are scripts
// (push.txtar, pull.txtar, install.txtar, with their `elf` command). What
// stays here needs artifacts only the pack library writes without
// BuildKit: a multi-platform index, a layout recording its platform.

// elfFor is a minimal ELF64 little-endian executable header for GOARCH
// arch (amd64 or arm64): all the entrypoint check reads.
func elfFor(arch string) []byte {
	m := map[string]uint16{"amd64": 62, "arm64": 183}[arch]
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[19], h[20] = 2, byte(m), byte(m>>8), 1
	return h
}

// TestPullPlatformIndex: a multi-platform plugin pushed as TAG-ARCH tags
// plus an index; `dplug pull --platform` of the index gives each
// platform's plugin, entrypoint machine included, without a warning.
func TestPullPlatformIndex(t *testing.T) {
	host := memRegistry(t)
	ctx := context.Background()
	var imgs []pack.PlatformImage
	for _, arch := range []string{"amd64", "arm64"} {
		dir := testplugin.Write(t, nil, map[string]testplugin.File{"bin/plug": testplugin.Exec(string(elfFor(arch)))})
		img, err := pack.Image(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, pack.PlatformImage{Platform: "linux/" + arch, Image: img})
	}
	ref := host + "/arch/multi:1.0"
	if _, err := pack.PushPlatforms(ctx, ref, imgs, pack.WithIndex(true)); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		dir := filepath.Join(t.TempDir(), arch)
		code, _, errOut := dplug(t, "pull", "--platform", "linux/"+arch, ref, dir)
		if code != 0 || strings.Contains(errOut, "warning") {
			t.Fatalf("pull --platform linux/%s: exit %d\n%s", arch, code, errOut)
		}
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := plugin.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if r := entrypoint.Check(filepath.Join(dir, "rootfs"), cfg, "linux/"+arch); r.Verdict != entrypoint.Match {
			t.Errorf("pulled linux/%s: %s", arch, r)
		}
	}
}

// TestPushLayoutRecordedPlatform: a layout that records its plugin's
// platform (dplug build --platform X --output oci=DIR) is pushed for that
// platform, whatever the host; a layout that records another platform
// than its entrypoint's is refused.
func TestPushLayoutRecordedPlatform(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		testenv.Unavailable(t, "no foreign ELF header written for %s", runtime.GOARCH)
	}
	foreign := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	host := memRegistry(t)
	ctx := context.Background()
	dir := testplugin.Write(t, nil, map[string]testplugin.File{"bin/plug": testplugin.Exec(string(elfFor(foreign)))})
	img, err := pack.Image(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := filepath.Join(t.TempDir(), "good"), filepath.Join(t.TempDir(), "bad")
	if err := pack.WriteLayoutPlatform(good, img, "linux/"+foreign); err != nil {
		t.Fatal(err)
	}
	if err := pack.WriteLayoutPlatform(bad, img, "linux/"+runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := dplug(t, "push", good, host+"/arch/layout:1"); code != 0 {
		t.Errorf("push of a layout recording linux/%s: exit %d\n%s", foreign, code, errOut)
	}
	code, _, errOut := dplug(t, "push", bad, host+"/arch/layout:2")
	if want := "is " + foreign + ", not linux/" + runtime.GOARCH; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("push of a layout recording linux/%s: exit %d\n%s\nwant %q", runtime.GOARCH, code, errOut, want)
	}
}
