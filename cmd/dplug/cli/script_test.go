package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/entrypoint"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	runpkg "github.com/dplug/dplug/run"
)

// init keeps libcontainer's namespace threads off the main thread, as
// cmd/dplug's main does: the scripts' `dplug run` is this test binary.
func init() { runpkg.LockMainThread() }

// TestMain lets testscript run the test binary itself as `dplug`.
func TestMain(m *testing.M) {
	// The test binary is also libcontainer's re-exec target for `dplug
	// run` and `dplug test`: dispatch its init before anything else.
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

// update reports whether the goldens are to be rewritten: DPLUG_UPDATE=1
// regenerates every golden file of the repository (scripts, docs/cli,
// docs/rules.md, examples/, the validate corpus).
func update() bool { return os.Getenv("DPLUG_UPDATE") == "1" }

// TestScripts runs the end-to-end CLI scripts in testdata/script: each is a
// user's session (dplug commands, their exit codes and output). With
// DPLUG_UPDATE=1 their `cmp stdout FILE` goldens are rewritten in place.
//
// Besides testscript's own commands and conditions ([exec:NAME] looks on
// the script's PATH, which includes the repository's bin/), scripts have:
//
//	dplug ARGS / dplug-exit CODE ARGS   dplug (this test binary), exit code CODE
//	registry [-silent|-closed] [VAR]    an in-memory registry on 127.0.0.1 (go-containerregistry's),
//	                                    $VAR (default REGISTRY) = host:port, stopped at the script's end;
//	                                    -silent accepts and never answers, -closed is a port nothing listens on
//	need root|PROGRAM|unrunnable:s390x  skip the script without root, a program or a host that cannot
//	                                    run s390x binaries, or fail it under CI=true
//	testplugin volplug|regplug DIR      put the real test plugin binary at DIR/rootfs/NAME
//	                                    (and the empty dirs data, etc, tmp)
//	elf ARCH FILE                       write a minimal ELF executable header for GOARCH ARCH
//	grab NAME REGEXP                    set $NAME to REGEXP's first group in the last stdout
//	busybox VAR                         a busybox base image (Debian's busybox-static) as an OCI layout,
//	                                    $VAR = its BuildKit build context (oci-layout://DIR@DIGEST)
//	[root]                              the script runs as root
//
// and the variables $DPLUG_ROOT (a store in $WORK), $DPLUG_BIN (a PATH with
// dplug and nothing else), $REPO (the repository), $HOSTARCH (GOARCH) and
// $FOREIGN (arm64 on amd64, amd64 elsewhere); the Go toolchain's caches are
// the test's.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       update(),
		RequireExplicitExec: false,
		Setup:               scriptSetup,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return testenv.IsRoot(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"registry":   cmdRegistry,
			"need":       cmdNeed,
			"testplugin": cmdTestplugin,
			"elf":        cmdELF,
			"grab":       cmdGrab,
			"busybox":    cmdBusybox,
		},
	})
}

type tKey struct{}

func scriptSetup(env *testscript.Env) error {
	env.Values[tKey{}] = env.T()
	root := env.WorkDir + "/dplug-root"
	env.Setenv("DPLUG_ROOT", root)
	// testscript sets HOME=/no-home, which root can create: keep the user
	// cache (pack's layer cache for plugin dirs) in the script's work dir,
	// so no script sees what another one packed.
	env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/.cache")
	// Whatever happened, leave no buildkitd a script's `dplug build`
	// started behind.
	env.Defer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := buildkitd.New(root).Stop(ctx); err != nil {
			env.T().Log("stopping buildkitd: ", err)
		}
	})
	env.Setenv("CI", os.Getenv("CI"))
	// No credentials nor settings from the developer's machine.
	env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
	env.Setenv("BUILDKIT_HOST", "")
	env.Setenv("DPLUG_TIMEOUT", "")
	env.Setenv("HOSTARCH", runtime.GOARCH)
	foreign := "amd64"
	if runtime.GOARCH == "amd64" {
		foreign = "arm64"
	}
	env.Setenv("FOREIGN", foreign)
	// $DPLUG_BIN holds only dplug and dplug-exit: PATH=$DPLUG_BIN is a
	// machine with nothing installed.
	for _, dir := range filepath.SplitList(env.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "dplug-exit")); err == nil {
			env.Setenv("DPLUG_BIN", dir)
			break
		}
	}
	// $REPO is the repository (for its examples/); the Go toolchain works
	// in a script with the test's caches.
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return err
	}
	env.Setenv("REPO", repo)
	for k, v := range goEnv() {
		env.Setenv(k, v)
	}
	// buildkitd is found on PATH or in the repository's bin/, where
	// `make setup` puts it (internal/testenv.BuildkitdBinary).
	env.Setenv("PATH", env.Getenv("PATH")+string(os.PathListSeparator)+filepath.Join(repo, "bin"))
	return nil
}

// goEnv is the Go toolchain's cache and module settings of the test
// process (`go env`), which a script's `go build` needs: testscript gives
// scripts no HOME.
var goEnv = sync.OnceValue(func() map[string]string {
	vars := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"}
	out, err := exec.Command("go", append([]string{"env"}, vars...)...).Output()
	m := map[string]string{}
	if err != nil {
		return m // no go: scripts that build need it (`need go`)
	}
	for i, v := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if i < len(vars) {
			m[vars[i]] = v
		}
	}
	return m
})

// cmdNeed skips the script unless each named thing is there (root, or a
// program on the script's PATH), and fails it instead under CI=true, where
// everything is provided (internal/testenv.Need).
func cmdNeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: need root|PROGRAM|unrunnable:s390x...")
	}
	for _, what := range args {
		var missing string
		switch what {
		case "root":
			if !testenv.IsRoot() {
				missing = "needs root"
			}
		case "unrunnable:s390x":
			if runtime.GOARCH == "s390x" || entrypoint.Emulated("s390x") {
				missing = "needs a host that cannot run s390x binaries (binfmt_misc emulates them here)"
			}
		default:
			if _, err := lookPath(ts, what); err != nil {
				missing = fmt.Sprintf("needs %s on PATH or in bin/ (`make setup` installs it)", what)
			}
		}
		if missing != "" {
			unavailable(ts, missing)
		}
	}
}

// unavailable skips the script for want of what it says, or fails it
// under CI=true (testenv.UnavailableScript).
func unavailable(ts *testscript.TestScript, what string) {
	testenv.UnavailableScript(ts.Value(tKey{}).(testscript.T), "the script "+what)
}

// lookPath finds prog on the script's PATH.
func lookPath(ts *testscript.TestScript, prog string) (string, error) {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// cmdRegistry starts a registry for the script: go-containerregistry's
// in-memory one, or (-silent) a listener that accepts and never answers,
// or (-closed) a loopback port nothing listens on.
func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! registry")
	}
	mode := ""
	if len(args) > 0 && (args[0] == "-silent" || args[0] == "-closed") {
		mode, args = args[0], args[1:]
	}
	if len(args) > 1 {
		ts.Fatalf("usage: registry [-silent|-closed] [VAR]")
	}
	name := "REGISTRY"
	if len(args) == 1 {
		name = args[0]
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	addr := l.Addr().String()
	ts.Setenv(name, addr)
	switch mode {
	case "-closed":
		ts.Check(l.Close())
	case "-silent":
		var conns []net.Conn
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c) // held open, never answered
			}
		}()
		ts.Defer(func() {
			l.Close()
			<-done
			for _, c := range conns {
				c.Close()
			}
		})
	default:
		srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
		go func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				ts.Logf("registry %s: %v", addr, err)
			}
		}()
		ts.Defer(func() { srv.Close() })
	}
}

// cmdTestplugin copies a real test plugin binary (internal/testplugin:
// volplug or regplug) to DIR/rootfs/NAME; the script's archive gives its
// config.json.
func cmdTestplugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: testplugin volplug|regplug DIR")
	}
	bin, err := testplugin.Build(args[0])
	ts.Check(err)
	data, err := os.ReadFile(bin)
	ts.Check(err)
	rootfs := ts.MkAbs(filepath.Join(args[1], "rootfs"))
	for _, d := range []string{"data", "etc", "tmp"} { // as testplugin.Dir
		ts.Check(os.MkdirAll(filepath.Join(rootfs, d), 0o755))
	}
	ts.Check(os.WriteFile(filepath.Join(rootfs, args[0]), data, 0o755))
}

// cmdELF writes FILE (mode 0755): the 64-byte header of an ELF executable
// for GOARCH ARCH, all the entrypoint check reads.
func cmdELF(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: elf amd64|arm64|s390x FILE")
	}
	h := make([]byte, 64)
	switch args[0] {
	case "amd64", "arm64":
		m := map[string]uint16{"amd64": 62, "arm64": 183}[args[0]]
		copy(h, "\x7fELF\x02\x01\x01")                         // 64-bit, little-endian
		h[16], h[18], h[19], h[20] = 2, byte(m), byte(m>>8), 1 // ET_EXEC, machine, EV_CURRENT
	case "s390x":
		copy(h, "\x7fELF\x02\x02\x01") // 64-bit, big-endian
		h[17], h[19], h[23] = 2, 22, 1 // ET_EXEC, EM_S390, EV_CURRENT
	default:
		ts.Fatalf("elf: no header for %q", args[0])
	}
	dst := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o755))
	ts.Check(os.WriteFile(dst, h, 0o755))
}

// cmdGrab sets $NAME to the first group of REGEXP in the last command's
// stdout, so that a later line can use what an earlier one printed (a
// digest, a socket path).
func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: grab NAME REGEXP")
	}
	re, err := regexp.Compile(`(?m)` + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("grab: no match for %q (with a group) in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdBusybox writes the busybox base image (testenv.BusyboxImage) as an OCI
// layout in $WORK and sets $VAR to its build context; without
// busybox-static it skips the script, or fails it under CI=true.
func cmdBusybox(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: busybox VAR")
	}
	if _, err := os.Stat(testenv.BusyboxPath); err != nil {
		unavailable(ts, fmt.Sprintf("needs %s (install: apt-get install busybox-static)", testenv.BusyboxPath))
	}
	img, err := testenv.BusyboxImage(testenv.BusyboxPath)
	ts.Check(err)
	dir := ts.MkAbs("busybox-layout")
	dig, err := testenv.WriteOCILayout(dir, img, "latest")
	ts.Check(err)
	base := testenv.BaseImage{Dir: dir, Digest: dig, Image: img}
	ts.Setenv(args[0], base.BuildContext())
}
