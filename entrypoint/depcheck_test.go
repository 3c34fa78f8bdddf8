package entrypoint

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDependencyFence keeps the check usable from pack, store and the CLI
// on any OS: no BuildKit, no libcontainer, no cobra.
func TestDependencyFence(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		testenv.Unavailable(t, "go list: %v\n%s", err, out)
	}
	forbidden := []string{"github.com/moby/buildkit", "github.com/opencontainers/runc", "github.com/spf13/cobra",
		"github.com/docker/docker", "github.com/google/go-containerregistry"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("entrypoint depends on %s", dep)
			}
		}
	}
}
