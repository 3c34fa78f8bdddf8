package cli_test

import (
	"fmt"
	"os"
	"strconv"
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
		// dplug-exit WANT ARGS... runs dplug ARGS... and fails, saying
		// "exit status X, want WANT", unless dplug exits with code WANT:
		// scripts check exact exit codes (0, 1, 2) with it.
		"dplug-exit": func() {
			if len(os.Args) < 2 {
				fmt.Fprintln(os.Stderr, "usage: dplug-exit WANT [dplug args...]")
				os.Exit(125)
			}
			want, err := strconv.Atoi(os.Args[1])
			if err != nil {
				fmt.Fprintf(os.Stderr, "dplug-exit: the expected exit code %q is not a number\n", os.Args[1])
				os.Exit(125)
			}
			os.Args = append(os.Args[:1], os.Args[2:]...)
			if code := cli.Main(); code != want {
				fmt.Fprintf(os.Stderr, "exit status %d, want %d\n", code, want)
				os.Exit(125)
			}
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
