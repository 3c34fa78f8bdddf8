package buildkitd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/internal/testenv"
)

// TestUnprivileged: without root, Ensure refuses with ErrNotRoot instead of
// trying to start buildkitd, and a root too long for a socket path gets its
// run dir under the user's own temp dir, not /run/dplug. As root (CI) it
// runs as nobody.
func TestUnprivileged(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	m := buildkitd.New(t.TempDir(), buildkitd.WithBinary("/bin/true"))
	if _, started, err := m.Ensure(context.Background()); !errors.Is(err, buildkitd.ErrNotRoot) || started {
		t.Errorf("Ensure = %v, started %v; want ErrNotRoot", err, started)
	}
	long := buildkitd.New("/" + strings.Repeat("x", 120))
	want := filepath.Join(os.TempDir(), fmt.Sprintf("dplug-%d", os.Geteuid())) + "/"
	if got := long.RunDir(); !strings.HasPrefix(got, want) {
		t.Errorf("RunDir = %q, want it under %s", got, want)
	}
}
