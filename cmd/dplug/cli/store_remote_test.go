package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestInstallFromRegistryAndLayout: dplug push to a real loopback
// docker-registry and to an OCI layout, then dplug install from each; the
// installed rootfs is the source's.
func TestInstallFromRegistryAndLayout(t *testing.T) {
	reg := testenv.StartRegistry(t)
	src := testplugin.Dir(t, nil)
	root := t.TempDir()
	ref := reg.Host + "/team/volplug:1.0"
	layout := filepath.Join(t.TempDir(), "layout")
	mustStore(t, root, "push", src, ref, "--oci-layout", layout)

	r := runStore(t, root, "install", ref, "--grant-all-permissions", "DEBUG=1")
	if r.code != 1 || !strings.Contains(r.stderr, `setting "DEBUG" not found in the plugin configuration`) {
		t.Errorf("install with an unknown setting: exit %d, %q", r.code, r.stderr)
	}
	if r := runStore(t, root, "install", ref); r.code != 1 || !strings.Contains(r.stderr, "--grant-all-permissions") {
		t.Errorf("install without a terminal or grant: exit %d, %q", r.code, r.stderr)
	}
	if got := mustStore(t, root, "install", ref, "--grant-all-permissions"); got != ref+"\n" {
		t.Errorf("install printed %q, want %q", got, ref)
	}
	if got := mustStore(t, root, "install", layout, "--alias", "fromlayout", "--grant-all-permissions", "--disable"); got != "fromlayout:latest\n" {
		t.Errorf("install from layout printed %q", got)
	}
	var insp []struct {
		Name, PluginReference string
		Enabled               bool
	}
	if err := json.Unmarshal([]byte(mustStore(t, root, "inspect", ref, "fromlayout")), &insp); err != nil {
		t.Fatal(err)
	}
	if len(insp) != 2 || insp[0].PluginReference != ref || !insp[0].Enabled || insp[1].PluginReference != "" || insp[1].Enabled {
		t.Errorf("inspect = %+v", insp)
	}
	want, err := os.ReadFile(filepath.Join(src, "rootfs", "volplug"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range storeLs(t, root) {
		got, err := os.ReadFile(filepath.Join(root, "plugins", p.ID, "rootfs", "volplug"))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: rootfs/volplug differs from the source (%v)", p.Name, err)
		}
	}
	checkStore(t, root, countFiles(t, filepath.Join(src, "rootfs")))
}
