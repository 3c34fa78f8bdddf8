package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/build/buildkitd"
	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// dplug runs one in-process dplug command and returns its exit code and
// streams.
func dplug(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

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

// TestSetupCheck: with nothing installed, `dplug setup --check` names the
// command that installs each missing program, and exits 1.
func TestSetupCheck(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := dplug(t, "--root", t.TempDir(), "setup", "--check")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"runc not found: install it with `apt-get install runc`", "buildkitd not found: install it with `dplug setup`"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestBuildUsageErrors: bad destinations and flags exit 2 before any build.
func TestBuildUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no destination", []string{"build", "."}, "no destination"},
		{"two directories", []string{"build", "-o", "dir=a", "-o", "type=local,dest=b", "."}, "one directory output"},
		{"two tags", []string{"build", "-t", "a", "-t", "b", "."}, "one -t NAME"},
		{"bad output", []string{"build", "-o", "tar=x", "."}, "invalid --output"},
		{"bad progress", []string{"build", "--progress", "fancy", "-o", "dir=x", "."}, "invalid --progress"},
		{"bad build context", []string{"build", "--build-context", "nameonly", "-o", "dir=x", "."}, "invalid --build-context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := dplug(t, append([]string{"--root", t.TempDir()}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// TestBuildErrorMessages: failures found before or at the connection to
// BuildKit are one line that names the thing and says what to do, with no
// gRPC noise; nothing needs a daemon.
func TestBuildErrorMessages(t *testing.T) {
	ctxDir := t.TempDir()
	cfg, err := json.Marshal(testplugin.Config())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	withDockerfile := t.TempDir()
	for name, data := range map[string][]byte{"config.json": cfg, "Dockerfile": []byte("FROM scratch\n")} {
		if err := os.WriteFile(filepath.Join(withDockerfile, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	badConfig := t.TempDir()
	for name, data := range map[string]string{"config.json": "{\n  \"description\": 1\n}\n", "Dockerfile": "FROM scratch\n"} {
		if err := os.WriteFile(filepath.Join(badConfig, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dead := "unix://" + filepath.Join(t.TempDir(), "nobody.sock")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing Dockerfile", []string{"build", "-o", "dir=" + filepath.Join(t.TempDir(), "o"), ctxDir}, 2,
			"no Dockerfile at " + filepath.Join(ctxDir, "Dockerfile") + ": write one, or point -f at yours"},
		{"missing context", []string{"build", "-t", "me/x", filepath.Join(ctxDir, "nope")}, 2,
			"build context " + filepath.Join(ctxDir, "nope") + ": no such directory"},
		{"missing config", []string{"build", "-t", "me/x", "--config", filepath.Join(ctxDir, "nope.json"), ctxDir}, 2,
			"no plugin config at " + filepath.Join(ctxDir, "nope.json") + ": a plugin needs a config.json"},
		{"bad --push", []string{"build", "--push", "a:b:c", withDockerfile}, 2,
			"--push a:b:c: invalid reference: more than one ':'"},
		{"bad --network", []string{"build", "--network", "bridge", "-o", "dir=" + filepath.Join(t.TempDir(), "o"), withDockerfile}, 2,
			`invalid network mode "bridge": use default, host or none`},
		// The same type and wording as install, run and push (validate.ConfigError), exit 1.
		{"invalid config", []string{"build", "-o", "dir=" + filepath.Join(t.TempDir(), "o"), badConfig}, 1,
			"dplug: invalid plugin config, 3 errors (fix them; `dplug validate` checks again):\n  " + filepath.Join(badConfig, "config.json") + ":1:1: error:"},
		{"dead --addr", []string{"build", "--addr", dead, "-o", "dir=" + filepath.Join(t.TempDir(), "o"), withDockerfile}, 1,
			"cannot reach BuildKit at " + dead + ": no such file or directory (check --addr and BUILDKIT_HOST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := dplug(t, append([]string{"--root", t.TempDir(), "--progress", "quiet"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q; want nothing", stdout)
			}
			for _, noise := range []string{"rpc error", "desc =", "Unavailable", "stat "} {
				if strings.Contains(stderr, noise) {
					t.Errorf("stderr %q contains %q", stderr, noise)
				}
			}
		})
	}
}
