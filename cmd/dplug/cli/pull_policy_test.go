package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPullDirMode: pull creates DIR 0700 unless --dir-mode says otherwise,
// and says why in its help.
func TestPullDirMode(t *testing.T) {
	host := memRegistry(t)
	ref := host + "/cli/mode:1"
	if code, _, errOut := run(t, "push", pluginDir(t), ref); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	for _, tt := range []struct {
		args []string
		want os.FileMode
	}{
		{nil, 0o700},
		{[]string{"--dir-mode", "0755"}, 0o755},
		{[]string{"--dir-mode", "750"}, 0o750},
	} {
		out := filepath.Join(t.TempDir(), "out")
		if code, _, errOut := run(t, append(append([]string{"pull"}, tt.args...), ref, out)...); code != 0 {
			t.Fatalf("pull %v: exit %d\n%s", tt.args, code, errOut)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != tt.want {
			t.Errorf("pull %v: DIR mode %v, %v; want %v", tt.args, fi.Mode(), err, tt.want)
		}
	}
	for _, bad := range []string{"0644", "999", "rwx"} {
		code, _, errOut := run(t, "pull", "--dir-mode", bad, ref, filepath.Join(t.TempDir(), "out"))
		if code != 2 || !strings.Contains(errOut, "--dir-mode") {
			t.Errorf("pull --dir-mode %s: exit %d, %q; want exit 2", bad, code, errOut)
		}
	}
	_, help, _ := run(t, "pull", "--help")
	for _, want := range []string{"device nodes and FIFOs", "0700", "setuid/setgid", "file capabilities"} {
		if !strings.Contains(help, want) {
			t.Errorf("pull --help does not mention %q", want)
		}
	}
}

// TestMaxSizeFlag: pull and install bound what a plugin expands to.
func TestMaxSizeFlag(t *testing.T) {
	host := memRegistry(t)
	ref := host + "/cli/size:1"
	if code, _, errOut := run(t, "push", pluginDir(t), ref); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	root := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pull", "--max-size", "1KiB", ref, filepath.Join(t.TempDir(), "o")}, 1, "raise --max-size"},
		{[]string{"--root", root, "install", "--grant-all-permissions", "--max-size", "1k", ref}, 1, "raise --max-size"},
		{[]string{"pull", "--max-size", "lots", ref, filepath.Join(t.TempDir(), "o")}, 2, "512MiB"},
		{[]string{"pull", "--max-size", "0", ref, filepath.Join(t.TempDir(), "o")}, 2, "positive size"},
		{[]string{"pull", "--max-size", "1MiB", ref, filepath.Join(t.TempDir(), "o")}, 0, ""},
	} {
		code, _, errOut := run(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

// TestProgressPhases: push and pull say what they wait for — packing, then
// connecting to the registry, then moving bytes — one line per phase.
func TestProgressPhases(t *testing.T) {
	host := memRegistry(t)
	ref := host + "/cli/phases:1"
	code, _, errOut := run(t, "push", pluginDir(t), ref)
	if code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	checkPhases(t, "push", errOut, []string{"packing", "connecting", "uploading", "finishing"})
	code, _, errOut = run(t, "pull", ref, filepath.Join(t.TempDir(), "out"))
	if code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, errOut)
	}
	checkPhases(t, "pull", errOut, []string{"connecting", "pulling"})
}

func checkPhases(t *testing.T, cmd, stderr string, want []string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, " in ") {
			got = append(got, f[0])
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s phases = %v; want %v\nstderr:\n%s", cmd, got, want, stderr)
	}
}
