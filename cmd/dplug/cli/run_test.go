package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/probe"
	runpkg "github.com/dplug/dplug/run"
)

// init keeps libcontainer's namespace threads off the main thread, as
// cmd/dplug's main does.
func init() { runpkg.LockMainThread() }

// rundplug runs one in-process dplug command with a short store root.
func rundplug(t *testing.T, ctx context.Context, root string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(ctx, append([]string{"--root", root}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// shortRoot is a store root short enough for socket paths; the test fails
// if a run directory survives.
func shortRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(filepath.Join(dir, "run"))
		for _, e := range entries {
			t.Errorf("run dir %s left behind", e.Name())
		}
		os.RemoveAll(dir)
	})
	return dir
}

func volplugDir(t *testing.T, mode string) string {
	t.Helper()
	testenv.RequireRoot(t)
	cfg := testplugin.Config()
	if mode != "" {
		cfg.Env = append(cfg.Env, plugin.Env{Name: "TESTPLUGIN_MODE", Value: &mode})
	}
	return testplugin.Dir(t, &cfg)
}

func TestTestCommand(t *testing.T) {
	tests := []struct {
		mode     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"", nil, 0, "0 failed, 0 warnings, 0 skipped"},
		// dockerd never calls /Plugin.Activate: a wrong answer is advisory
		// (the plugin serves nothing else, so Create fails).
		{"wrongimpl", nil, 1, "WARN  advisory  Plugin.Activate"},
		{"wrongimpl", []string{"--strict"}, 1, "FAIL  advisory  Plugin.Activate"},
		{"dieonremove", nil, 1, "exited with code 4; last output: "},
	}
	for _, tt := range tests {
		t.Run("mode="+tt.mode+strings.Join(tt.args, ""), func(t *testing.T) {
			dir := volplugDir(t, tt.mode)
			root := shortRoot(t)
			code, out, errOut := rundplug(t, context.Background(), root, append(append([]string{"test"}, tt.args...), dir)...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Errorf("dplug test: exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			if tt.mode == "dieonremove" && !strings.Contains(out, "volplug: dying on Remove") {
				t.Errorf("the report lacks the plugin's last output:\n%s", out)
			}
			if tt.mode == "wrongimpl" && !strings.Contains(errOut, "missing VolumeDriver") {
				t.Errorf("no warning about Implements on stderr:\n%s", errOut)
			}
		})
	}
}

func TestTestCommandJSON(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	code, out, errOut := rundplug(t, context.Background(), root, "test", "-o", "json", dir)
	var rep struct {
		Failed int
		Checks []struct {
			Method string
			Kind   string
			Status string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v; stdout:\n%s\nstderr:\n%s", code, err, out, errOut)
	}
	if rep.Failed != 0 || len(rep.Checks) < 13 {
		t.Errorf("report: %+v", rep)
	}
	for _, c := range rep.Checks {
		if c.Status != "PASS" || (c.Kind != "required" && c.Kind != "advisory") {
			t.Errorf("check %+v: want PASS with a kind", c)
		}
	}
}

func TestRunDetachLogsStop(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx := context.Background()
	code, out, errOut := rundplug(t, ctx, root, "run", "--detach", dir)
	if code != 0 {
		t.Fatalf("run --detach: exit %d\n%s", code, errOut)
	}
	sock := strings.TrimSpace(out)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("socket %q: %v", sock, err)
	}
	if code, out, _ := rundplug(t, ctx, root, "logs", dir); code != 0 || !strings.Contains(out, "volplug starting") {
		t.Errorf("logs: exit %d, %q", code, out)
	}
	// logs -f follows until Ctrl-C (here: the context's deadline).
	fctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	code, out, errOut = rundplug(t, fctx, root, "logs", "-f", dir)
	cancel()
	if code != 0 || !strings.Contains(out, "volplug starting") {
		t.Errorf("logs -f: exit %d, %q, %s", code, out, errOut)
	}
	if code, _, errOut := rundplug(t, ctx, root, "stop", dir); code != 0 {
		t.Errorf("stop: exit %d: %s", code, errOut)
	}
	if code, _, errOut := rundplug(t, ctx, root, "stop", dir); code != 1 || !strings.Contains(errOut, "not running") {
		t.Errorf("second stop: exit %d: %s", code, errOut)
	}
}

func TestRunForeground(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var code int
	var out, errOut string
	go func() {
		defer close(done)
		code, out, errOut = rundplug(t, ctx, root, "run", "--grace", "1s", dir)
	}()
	// Wait for the socket to show up in the run dir, then "press Ctrl-C".
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(root, "run", "*", "sock", testplugin.Socket))
		if len(m) == 1 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no socket; exit %d\n%s", code, errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	if code != 0 || !strings.Contains(out, testplugin.Socket) || !strings.Contains(errOut, "| volplug starting") {
		t.Errorf("exit %d; stdout %q; stderr:\n%s", code, out, errOut)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		mode    string
		args    []string
		wantErr []string
	}{
		{"crash", nil, []string{"plugin exited early", "exit code 3", "crashing on purpose"}},
		{"nolisten", []string{"--timeout", "500ms"}, []string{"socket never appeared", "volplug starting"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			dir := volplugDir(t, tt.mode)
			root := shortRoot(t)
			code, _, errOut := rundplug(t, context.Background(), root, append(append([]string{"run"}, tt.args...), dir)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestRunInstalled(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx := context.Background()
	if code, _, errOut := rundplug(t, ctx, root, "install", "--grant-all-permissions", "--alias", "volplug", dir); code != 0 {
		t.Fatalf("install: exit %d: %s", code, errOut)
	}
	if code, out, errOut := rundplug(t, ctx, root, "test", "volplug"); code != 0 {
		t.Errorf("test volplug: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := rundplug(t, ctx, root, "run", "no-such-plugin"); code != 1 {
		t.Errorf("run of a missing plugin: exit %d, want 1: %s", code, errOut)
	}
}

// TestRmRunning: a plugin running detached is not removed from under its
// container; rm --force stops it, cleans its run up, then removes it.
func TestRmRunning(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx := context.Background()
	if code, _, errOut := rundplug(t, ctx, root, "install", "--grant-all-permissions", "--disable", "--alias", "volplug", dir); code != 0 {
		t.Fatalf("install: exit %d: %s", code, errOut)
	}
	if code, _, errOut := rundplug(t, ctx, root, "run", "--detach", "volplug"); code != 0 {
		t.Fatalf("run --detach: exit %d: %s", code, errOut)
	}
	code, _, errOut := rundplug(t, ctx, root, "rm", "volplug")
	if code != 1 || !strings.Contains(errOut, "is running") {
		t.Fatalf("rm of a running plugin: exit %d, want 1 and 'is running': %s", code, errOut)
	}
	if code, out, _ := rundplug(t, ctx, root, "ls", "-q"); code != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("the refused rm removed the plugin: ls exit %d %q", code, out)
	}
	if code, _, errOut := rundplug(t, ctx, root, "rm", "-f", "volplug"); code != 0 {
		t.Fatalf("rm -f: exit %d: %s", code, errOut)
	}
	if code, out, _ := rundplug(t, ctx, root, "ls", "-q"); code != 0 || strings.TrimSpace(out) != "" {
		t.Fatalf("after rm -f: ls exit %d %q, want empty", code, out)
	}
}

// TestTestExamples builds each example plugin's binary straight into a
// plugin dir (what its Dockerfile does, minus BuildKit) and runs
// `dplug test` on it: every check must pass.
func TestTestExamples(t *testing.T) {
	testenv.RequireRoot(t)
	for _, ex := range []string{"volume", "ipam", "authz"} {
		t.Run(ex, func(t *testing.T) {
			src := filepath.Join("..", "..", "..", "examples", ex)
			data, err := os.ReadFile(filepath.Join(src, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := plugin.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			bin := filepath.Join(dir, "rootfs", cfg.Entrypoint[0])
			cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
			cmd.Dir = src
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("building example %s: %v\n%s", ex, err, out)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			root := shortRoot(t)
			code, out, errOut := rundplug(t, context.Background(), root, "test", dir)
			if code != 0 || !strings.Contains(out, " 0 failed") {
				t.Errorf("dplug test examples/%s: exit %d\n%s\n%s", ex, code, out, errOut)
			}
		})
	}
}

// TestRunPluginDies: a plugin that dies while `dplug run` streams it ends
// the run with exit 1, its exit code and its last words.
func TestRunPluginDies(t *testing.T) {
	dir := volplugDir(t, "dieonremove")
	root := shortRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	var code int
	var errOut string
	go func() {
		defer close(done)
		code, _, errOut = rundplug(t, ctx, root, "run", dir)
	}()
	var sock string
	for sock == "" && ctx.Err() == nil {
		if m, _ := filepath.Glob(filepath.Join(root, "run", "*", "sock", testplugin.Socket)); len(m) == 1 {
			sock = m[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	_, _ = probe.NewClient(sock).Call(ctx, "VolumeDriver.Remove", map[string]string{"Name": "x"})
	<-done
	if code != 1 || !strings.Contains(errOut, "exited with code 4") || !strings.Contains(errOut, "dying on Remove") {
		t.Errorf("exit %d; stderr:\n%s", code, errOut)
	}
}
