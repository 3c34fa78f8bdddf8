package cli_test

// The Go tests of package cli keep only what a script
// (testdata/script/*.txtar, TestScripts) cannot express: signals and
// SIGKILL at random moments, concurrent processes, a pseudo-terminal,
// fault injection (hostile artifacts, a lock held by another process, a
// read-only mount), artifacts no dplug command writes without a daemon,
// and the Docker Engines. Every command-line session — run dplug, check
// its exit code and output — is a script.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

// dplug runs one dplug command line in-process and returns its exit code,
// stdout and stderr.
func dplug(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return rundplug(t, context.Background(), "", args...)
}

// rundplug runs one dplug command line in-process under ctx, on the store
// under root ("" means the environment's).
func rundplug(t *testing.T, ctx context.Context, root string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if root != "" {
		args = append([]string{"--root", root}, args...)
	}
	var out, errb bytes.Buffer
	code = cli.Run(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// storeResult is one finished dplug process.
type storeResult struct {
	stdout, stderr string
	code           int
}

// storeCmd prepares dplug as a separate process (the test binary, see
// TestMain) on the store under root: for what kills, races or signals it.
func storeCmd(root string, args ...string) *exec.Cmd {
	cmd := exec.Command("dplug", args...)
	cmd.Env = append(os.Environ(), "DPLUG_ROOT="+root)
	return cmd
}

func runStore(t *testing.T, root string, args ...string) storeResult {
	t.Helper()
	cmd := storeCmd(root, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running dplug %v: %v", args, err)
	}
	return storeResult{out.String(), errb.String(), code}
}

func mustStore(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := runStore(t, root, args...)
	if r.code != 0 {
		t.Fatalf("dplug %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
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

// memRegistry is go-containerregistry's in-memory registry on loopback
// (the scripts' `registry` command), with no credentials from the
// developer's machine.
func memRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return strings.TrimPrefix(srv.URL, "http://")
}

// smallPluginDir writes a plugin dir (testplugin.Write) whose rootfs has n
// small files in nested dirs, an executable bin/plug, a symlink and a hard
// link.
func smallPluginDir(t *testing.T, n int, cfg *plugin.Config) string {
	t.Helper()
	files := map[string]testplugin.File{
		"bin/plug":  testplugin.Exec("#!/bin/sh\n"),
		"bin/alias": {Symlink: "plug"},
		"bin/hard":  {Link: "bin/plug"},
	}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("d%02d/f%05d", i%50, i)] = testplugin.File{Body: strings.Repeat("x", i%300)}
	}
	return testplugin.Write(t, cfg, files)
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type lsEntry struct {
	ID, Name string
	Enabled  bool
}

func storeLs(t *testing.T, root string) []lsEntry {
	t.Helper()
	var out []lsEntry
	if err := json.Unmarshal([]byte(mustStore(t, root, "ls", "--no-trunc", "-o", "json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStore asserts the invariants a kill must never break: ls works,
// every listed plugin is complete on disk, tmp/ holds nothing once doctor
// ran, and nothing unlisted is ever shown as a plugin.
func checkStore(t *testing.T, root string, files int) []lsEntry {
	t.Helper()
	list := storeLs(t, root)
	plugins := filepath.Join(root, "plugins")
	listed := map[string]bool{}
	for _, p := range list {
		listed[p.ID] = true
		dir := filepath.Join(plugins, p.ID)
		if got := countFiles(t, filepath.Join(dir, "rootfs")); got != files {
			t.Fatalf("listed plugin %s has %d rootfs files, want %d (partial install visible)", p.Name, got, files)
		}
		fi, err := os.Stat(filepath.Join(dir, "config.json"))
		if err != nil || fi.Mode().Perm() != 0o444 {
			t.Fatalf("listed plugin %s config.json: %v %v", p.Name, fi, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "plugin-settings.json")); err != nil {
			t.Fatalf("listed plugin %s: %v", p.Name, err)
		}
	}
	r := runStore(t, root, "doctor", "-o", "json")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("doctor: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct{ Removed, Orphans, Missing, Resynced []string }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor output %q: %v", r.stdout, err)
	}
	if len(rep.Missing)+len(rep.Resynced) > 0 {
		t.Fatalf("doctor found broken plugins: %+v", rep)
	}
	for _, o := range rep.Orphans {
		if listed[filepath.Base(o)] {
			t.Fatalf("orphan %s is listed as a plugin", o)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(plugins, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ not empty after doctor: %v", ents)
	}
	return list
}
