package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// TestRegistryTimeout: push, pull and install give up on a registry that
// never answers, after --timeout or DPLUG_TIMEOUT.
func TestRegistryTimeout(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	host := silentAddr(t)
	ref := host + "/me/plug:1"
	dir := pluginDir(t)
	root := t.TempDir()
	for _, tt := range []struct {
		name string
		env  string
		args []string
	}{
		{"push flag", "", []string{"push", "--timeout", "300ms", dir, ref}},
		{"pull flag", "", []string{"pull", "--timeout", "300ms", ref, filepath.Join(t.TempDir(), "out")}},
		{"install flag", "", []string{"--root", root, "install", "--timeout", "300ms", "--grant-all-permissions", ref}},
		{"pull env", "300ms", []string{"pull", ref, filepath.Join(t.TempDir(), "out")}},
		{"install env", "300ms", []string{"--root", root, "install", "--grant-all-permissions", ref}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DPLUG_TIMEOUT", tt.env)
			start := time.Now()
			code, _, errOut := run(t, tt.args...)
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %s with a 300ms timeout", el)
			}
			if code != 1 || !strings.Contains(errOut, "registry timed out") || !strings.Contains(errOut, "--timeout") {
				t.Errorf("exit %d, stderr %q; want exit 1 and a timeout that names --timeout", code, errOut)
			}
		})
	}
	for _, tt := range []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"zero flag", "", []string{"pull", "--timeout", "0s", ref, t.TempDir()}, "--timeout 0s"},
		{"bad env", "soon", []string{"pull", ref, t.TempDir()}, `invalid DPLUG_TIMEOUT "soon"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DPLUG_TIMEOUT", tt.env)
			code, _, errOut := run(t, tt.args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// silentAddr is the address of a server that accepts and never answers.
func silentAddr(t *testing.T) string {
	addr, _ := testenv.SilentServer(t)
	return addr
}
