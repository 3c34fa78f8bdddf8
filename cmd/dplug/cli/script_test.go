package cli_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dplug/dplug/cmd/dplug/cli"
	runpkg "github.com/dplug/dplug/run"
)

// TestMain lets testscript run the test binary itself as `dplug`.
func TestMain(m *testing.M) {
	// The test binary is also libcontainer's re-exec target for the run
	// tests (run_test.go): dispatch its init before anything else.
	if runpkg.IsContainerInit() {
		runpkg.ContainerInit()
	}
	testscript.Main(m, map[string]func(){
		"dplug": func() { os.Exit(cli.Main()) },
		// dplug-exit runs dplug, then reports its exit code on stderr and
		// succeeds, so scripts can assert exact exit codes (0, 1, 2).
		"dplug-exit": func() {
			code := cli.Main()
			fmt.Fprintf(os.Stderr, "exit status %d\n", code)
			os.Exit(0)
		},
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script. Set
// DPLUG_UPDATE_SCRIPTS=1 to rewrite their golden files in place.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       os.Getenv("DPLUG_UPDATE_SCRIPTS") == "1",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("DPLUG_ROOT", env.WorkDir+"/dplug-root")
			env.Setenv("CI", os.Getenv("CI"))
			return nil
		},
	})
}
