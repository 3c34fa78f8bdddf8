package pack

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDependencyFence keeps pack usable from a plain CI runner and from
// macOS/Windows: no BuildKit, no libcontainer, no cobra.
func TestDependencyFence(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		testenv.Unavailable(t, "go list: %v\n%s", err, out)
	}
	forbidden := []string{"github.com/moby/buildkit", "github.com/opencontainers/runc", "github.com/spf13/cobra",
		"github.com/docker/docker"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("pack depends on %s", dep)
			}
		}
	}
}
