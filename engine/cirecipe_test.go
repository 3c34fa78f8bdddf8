package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// TestCIRecipe runs scripts/ci-recipe.sh — the README's CI recipe, and what
// action.yml runs — on each engine, as an unprivileged user whose only
// access is the engine's socket (the runner's docker group): validate,
// build with the engine's BuildKit, push to a loopback registry. The
// pushed plugin must then `docker plugin install` and serve a volume. The
// Go build stage's base image comes from the loopback registry (no Docker
// Hub here), and its modules download through GOPROXY.
func TestCIRecipe(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "setpriv", "apt-get install util-linux")
	repo, bin := buildPublicDplug(t)
	goimg := testenv.GoImage(t)

	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		d := testenv.StartDockerdEngine(t, e)
		reg := testenv.StartRegistry(t)
		if err := testenv.PushRef(goimg.Image, reg.Host+"/golang:1.26"); err != nil {
			t.Fatal(err)
		}
		// The runner's user reaches the engine through its socket only.
		sock := strings.TrimPrefix(d.Host, "unix://")
		for p, mode := range map[string]os.FileMode{sock: 0o666, filepath.Dir(sock): 0o711} {
			if err := os.Chmod(p, mode); err != nil {
				t.Fatal(err)
			}
		}
		home := publicDir(t)
		checkout := filepath.Join(home, "plugin")
		if out, err := exec.Command("cp", "-r", filepath.Join(repo, "examples", "volume"), checkout).CombinedOutput(); err != nil {
			t.Fatalf("copying the example: %v\n%s", err, out)
		}
		if out, err := exec.Command("chown", "-R", "65534:65534", home).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v\n%s", err, out)
		}
		ref := reg.Host + "/ci/volume:1.0"
		goproxy, _ := exec.Command("go", "env", "GOPROXY").Output()
		run := func(extra ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
				"env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME="+home,
				"DOCKER_HOST="+d.Host, "DPLUG="+bin, "DPLUG_CONTEXT="+checkout,
				// The test engines run with --bridge=none: RUN steps use the host's
				// network (a runner's engine has its bridge).
				"DPLUG_BUILD_FLAGS=--network host --build-arg GO_IMAGE="+reg.Host+"/golang:1.26 --build-arg GOPROXY="+strings.TrimSpace(string(goproxy)))
			cmd.Args = append(cmd.Args, extra...)
			cmd.Args = append(cmd.Args, "bash", filepath.Join(repo, "scripts", "ci-recipe.sh"))
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run("DPLUG_VALIDATE_ONLY=true"); err != nil || strings.Contains(out, "dplug build") {
			t.Fatalf("validate-only: %v\n%s", err, out)
		}
		out, err := run("DPLUG_REF=" + ref)
		if err != nil {
			t.Fatalf("ci-recipe.sh: %v\n%s\n%s", err, out, d.Log())
		}
		if !strings.Contains(out, "Docker Engine's BuildKit") || !strings.Contains(out, ref+"@sha256:") {
			t.Errorf("recipe output does not show the engine builder and the pushed digest:\n%s", out)
		}
		d.MustDocker(t, "plugin", "install", "--grant-all-permissions", "--alias", "ci/volume", ref)
		d.MustDocker(t, "volume", "create", "-d", "ci/volume", "v1")
	})
}

// publicDir is a temp dir an unprivileged user can reach (t.TempDir's
// parents are private).
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dplug-ci-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// buildPublicDplug builds dplug from this repository into a fresh dir that
// an unprivileged user can read (publicDir) and returns the repository and
// the binary's path.
func buildPublicDplug(t *testing.T) (repo, bin string) {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(publicDir(t), "dplug")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/dplug")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building dplug: %v\n%s", err, out)
	}
	return repo, bin
}
