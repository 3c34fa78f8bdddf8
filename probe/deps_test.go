package probe

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDependencies keeps probe plain client code: no libcontainer, no cgo
// dependency, nothing that needs root.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		testenv.Unavailable(t, "go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/opencontainers/runc", "github.com/moby/buildkit", "github.com/dplug/dplug/run"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("probe depends on %s", dep)
			}
		}
	}
}
