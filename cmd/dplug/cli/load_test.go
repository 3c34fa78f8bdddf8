package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestLoadCLI loads a plugin dir into a Docker Engine found through
// DOCKER_HOST, uses it, and checks that a setting given on the command
// line survives a reload and that a reload in use is refused.
func TestLoadCLI(t *testing.T) {
	d := testenv.StartDockerdEngine(t, testenv.Engine26)
	t.Setenv("DOCKER_HOST", d.Host)
	t.Setenv("DPLUG_ROOT", t.TempDir())
	dir := testplugin.Dir(t, nil)

	code, out, errOut := dplug(t, "load", dir, "--alias", "dplugtest/cli")
	if code != 0 || strings.TrimSpace(out) != "dplugtest/cli:latest" {
		t.Fatalf("load: exit %d, stdout %q, stderr %s\n%s", code, out, errOut, d.Log())
	}
	d.MustDocker(t, "volume", "create", "-d", "dplugtest/cli", "v1")
	code, _, errOut = dplug(t, "load", dir, "--alias", "dplugtest/cli")
	if code == 0 || !strings.Contains(errOut, "in use") || !strings.Contains(errOut, "--force") {
		t.Fatalf("load over a plugin in use: exit %d, stderr %s", code, errOut)
	}
	code, out, errOut = dplug(t, "load", dir, "--alias", "dplugtest/cli", "--force", "-o", "json")
	var res struct {
		Name     string
		Replaced bool
		Enabled  bool
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Replaced || !res.Enabled {
		t.Fatalf("forced load: exit %d, stdout %s, stderr %s", code, out, errOut)
	}
	if code, _, errOut := dplug(t, "load", dir, "--alias", "Bad Name"); code != 2 {
		t.Errorf("load with a bad name: exit %d (%s), want 2", code, errOut)
	}
}
