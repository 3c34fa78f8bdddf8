package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// build's usage and error sessions are a script (build.txtar). What stays
// here needs a daemon and a base image only Go writes (testenv.BusyboxLayout).

// TestBuildAutoBuildkitd runs `dplug build` with no BuildKit address: it
// must start its own buildkitd under --root, reuse it for the next build,
// and `dplug buildkitd stop` must stop it.
func TestBuildAutoBuildkitd(t *testing.T) {
	testenv.Short(t)
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "runc", "apt-get install runc")
	bin := testenv.BuildkitdBinary(t)
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("BUILDKIT_HOST", "")
	root := filepath.Join(t.TempDir(), "root")
	t.Cleanup(func() {
		// Whatever happened, leave no daemon behind.
		if _, err := buildkitd.New(root).Stop(context.Background()); err != nil {
			t.Errorf("stopping buildkitd: %v", err)
		}
	})
	base := testenv.BusyboxLayout(t)

	proj := t.TempDir()
	cfg, err := json.Marshal(testplugin.Config())
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"Dockerfile":  "FROM base\nARG MSG\nRUN echo \"$MSG\" > /msg\n",
		"config.json": string(cfg),
	} {
		if err := os.WriteFile(filepath.Join(proj, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "plugin")
	// --network host needs the entitlement dplug's buildkitd allows.
	args := []string{"--root", root, "build", "--progress", "plain", "--build-arg", "MSG=auto", "--build-arg", "NOT_AN_ARG=1",
		"--network", "host", "--build-context", "base=" + base.BuildContext(), "--output", "dir=" + out, proj}

	code, stdout, stderr := dplug(t, args...)
	if code != 0 {
		t.Fatalf("build exit %d\n%s", code, stderr)
	}
	if strings.TrimSpace(stdout) != out {
		t.Errorf("stdout %q, want the output dir %s", stdout, out)
	}
	if !strings.Contains(stderr, "dplug: started buildkitd at unix://") {
		t.Errorf("stderr does not say buildkitd was started:\n%s", stderr)
	}
	if !strings.Contains(stderr, "warning: build-arg NOT_AN_ARG not consumed") {
		t.Errorf("stderr does not warn about the unused build arg:\n%s", stderr)
	}
	if data, err := os.ReadFile(filepath.Join(out, "rootfs", "msg")); err != nil || string(data) != "auto\n" {
		t.Errorf("rootfs/msg = %q, %v", data, err)
	}

	// Reused, and the unchanged rebuild is all cache.
	code, stdout, stderr = dplug(t, append(args[:len(args)-1], "--output", "json", proj)...)
	if code != 0 {
		t.Fatalf("rebuild exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "using dplug's buildkitd") {
		t.Errorf("rebuild did not reuse the daemon:\n%s", stderr)
	}
	var res struct {
		Output string
		Steps  []struct {
			Name   string
			Cached bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--output json: %v\n%s", err, stdout)
	}
	for _, s := range res.Steps {
		if strings.Contains(s.Name, "] RUN ") && !s.Cached {
			t.Errorf("rebuild ran %q", s.Name)
		}
	}

	if code, stdout, _ := dplug(t, "--root", root, "buildkitd", "status"); code != 0 || !strings.HasPrefix(stdout, "running: pid ") {
		t.Errorf("status exit %d: %s", code, stdout)
	}
	st, err := buildkitd.New(root).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := dplug(t, "--root", root, "buildkitd", "stop"); code != 0 || !strings.Contains(stderr, "stopped") {
		t.Errorf("stop exit %d: %s", code, stderr)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat("/proc/" + strconv.Itoa(st.PID)); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/stat"); err == nil && !strings.Contains(string(data), ") Z ") {
		t.Errorf("buildkitd pid %d still runs after stop", st.PID)
	}
	if code, _, _ := dplug(t, "--root", root, "buildkitd", "status"); code != 1 {
		t.Errorf("status after stop exit %d, want 1", code)
	}
}
