package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/plugin"
)

// elfFor is a minimal ELF64 little-endian executable header for GOARCH
// arch (amd64 or arm64): all the entrypoint check reads.
func elfFor(arch string) []byte {
	m := map[string]uint16{"amd64": 62, "arm64": 183}[arch]
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[18], h[19], h[20] = 2, byte(m), byte(m>>8), 1
	return h
}

// TestArchChecks: a plugin whose entrypoint is for another architecture is
// refused by push (unless --platform says it is meant for that one), and
// pull and install warn with the consequence.
func TestArchChecks(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		testenv.Unavailable(t, "no foreign ELF header written for %s", runtime.GOARCH)
	}
	foreign := map[string]string{"amd64": "arm64", "arm64": "amd64"}[runtime.GOARCH]
	host := memRegistry(t)
	dir := pluginDir(t)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), elfFor(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	ref := host + "/arch/plug:1"

	code, _, errOut := run(t, "push", dir, ref)
	want := "refusing to push: the entrypoint /plug is " + foreign + ", not linux/" + runtime.GOARCH + " (this host)"
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "--platform linux/"+foreign) {
		t.Fatalf("push of a foreign plugin: exit %d\n%s\nwant exit 1 and %q", code, errOut, want)
	}
	code, _, errOut = run(t, "push", dir, "--oci-layout", filepath.Join(t.TempDir(), "lay"))
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("push --oci-layout of a foreign plugin: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "push", "--platform", "linux/"+foreign, dir, ref)
	if code != 0 {
		t.Fatalf("push --platform linux/%s: exit %d\n%s", foreign, code, errOut)
	}

	warning := "dplug: warning: the entrypoint /plug is " + foreign + " but this host is " + runtime.GOARCH + ": docker plugin create would accept it"
	code, _, errOut = run(t, "pull", ref, filepath.Join(t.TempDir(), "p"))
	if code != 0 || !strings.Contains(errOut, warning) {
		t.Errorf("pull: exit %d\n%s\nwant the warning %q", code, errOut, warning)
	}
	code, _, errOut = run(t, "pull", "--platform", "linux/"+foreign, ref, filepath.Join(t.TempDir(), "p"))
	if code != 0 || strings.Contains(errOut, "warning") {
		t.Errorf("pull --platform linux/%s: exit %d, want no warning\n%s", foreign, code, errOut)
	}

	if runtime.GOOS == "linux" {
		root := t.TempDir()
		code, _, errOut = run(t, "--root", root, "install", "--alias", "foreign", dir)
		if code != 0 || !strings.Contains(errOut, "is "+foreign+" but this host is "+runtime.GOARCH+": it is installed, but enabling or running it will fail") {
			t.Errorf("install: exit %d\n%s", code, errOut)
		}
	}

	// The host's own architecture: no complaint anywhere.
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), elfFor(runtime.GOARCH), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "push", dir, ref)
	if code != 0 {
		t.Fatalf("push of a native plugin: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "pull", ref, filepath.Join(t.TempDir(), "p"))
	if code != 0 || strings.Contains(errOut, "warning") {
		t.Errorf("pull of a native plugin: exit %d\n%s", code, errOut)
	}
}

// TestRunForeignEntrypoint: dplug run of a plugin built for another
// architecture says what it is, not only "exec format error". The binary
// is an s390x ELF header (big-endian), on no host dplug's CI uses.
func TestRunForeignEntrypoint(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	if runtime.GOARCH == "s390x" || entrypoint.Emulated("s390x") {
		testenv.Unavailable(t, "needs a host that cannot run s390x binaries (binfmt_misc emulates them here)")
	}
	dir := pluginDir(t)
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x02\x01")
	h[17], h[19], h[23] = 2, 22, 1 // ET_EXEC, EM_S390, EV_CURRENT (big-endian)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), h, 0o755); err != nil {
		t.Fatal(err)
	}
	root := shortRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, _, errOut := rundplug(t, ctx, root, "install", "--alias", "s390", dir); code != 0 || !strings.Contains(errOut, "the entrypoint /plug is s390x but this host is") {
		t.Fatalf("install: exit %d\n%s", code, errOut)
	}
	code, _, errOut := rundplug(t, ctx, root, "run", "s390")
	want := "the entrypoint /plug is s390x but this host is " + runtime.GOARCH + ": install the plugin built for linux/" + runtime.GOARCH
	if code == 0 || !strings.Contains(errOut, "exec format error") || !strings.Contains(errOut, want) {
		t.Errorf("run: exit %d\n%s\nwant %q", code, errOut, want)
	}
}

// TestPullPlatformIndex: a multi-platform plugin pushed as TAG-ARCH tags
// plus an index; `dplug pull --platform` of the index gives each
// platform's plugin, entrypoint machine included, without a warning.
func TestPullPlatformIndex(t *testing.T) {
	host := memRegistry(t)
	ctx := context.Background()
	var imgs []pack.PlatformImage
	for _, arch := range []string{"amd64", "arm64"} {
		dir := pluginDir(t)
		if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), elfFor(arch), 0o755); err != nil {
			t.Fatal(err)
		}
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
		code, _, errOut := run(t, "pull", "--platform", "linux/"+arch, ref, dir)
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
	dir := pluginDir(t)
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "plug"), elfFor(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
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
	if code, _, errOut := run(t, "push", good, host+"/arch/layout:1"); code != 0 {
		t.Errorf("push of a layout recording linux/%s: exit %d\n%s", foreign, code, errOut)
	}
	code, _, errOut := run(t, "push", bad, host+"/arch/layout:2")
	if want := "is " + foreign + ", not linux/" + runtime.GOARCH; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("push of a layout recording linux/%s: exit %d\n%s\nwant %q", runtime.GOARCH, code, errOut, want)
	}
}
