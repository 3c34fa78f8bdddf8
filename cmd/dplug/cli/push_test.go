package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dplug/dplug/cmd/dplug/cli"
)

// run executes one dplug command line and returns exit code, stdout, stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// pluginDir writes a minimal plugin directory.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"config.json": `{"Description":"cli test","Documentation":"https://example.invalid",
  "Entrypoint":["/plug"],"Interface":{"Socket":"p.sock","Types":["docker.volumedriver/1.0"]}}`,
		"rootfs/plug":     "#!/bin/sh\n",
		"rootfs/etc/conf": "a=b\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func memRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	// No credentials from the developer's machine.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return strings.TrimPrefix(srv.URL, "http://")
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func TestPushPullCLI(t *testing.T) {
	host := memRegistry(t)
	dir := pluginDir(t)
	ref := host + "/cli/plug:1"

	code, out, errOut := run(t, "push", dir, ref)
	if code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	pushed := strings.TrimSpace(out)
	if !strings.HasPrefix(pushed, ref+"@sha256:") {
		t.Errorf("push stdout = %q; want %s@sha256:…", out, ref)
	}

	code, out, errOut = run(t, "push", "-o", "json", dir, ref)
	if code != 0 {
		t.Fatalf("push -o json: exit %d\n%s", code, errOut)
	}
	var res struct{ Ref, Digest string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("push -o json stdout %q: %v", out, err)
	}
	if res.Ref != ref || ref+"@"+res.Digest != pushed || !digestRE.MatchString(res.Digest) {
		t.Errorf("push -o json = %+v; want ref %s and the digest of %s (reproducible)", res, ref, pushed)
	}

	target := filepath.Join(t.TempDir(), "pulled")
	code, out, errOut = run(t, "pull", "-o", "json", ref, target)
	if code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, errOut)
	}
	var pres struct{ Ref, Digest, Dir string }
	if err := json.Unmarshal([]byte(out), &pres); err != nil {
		t.Fatalf("pull -o json stdout %q: %v", out, err)
	}
	if pres.Digest != res.Digest || pres.Dir != target {
		t.Errorf("pull -o json = %+v; want digest %s dir %s", pres, res.Digest, target)
	}
	if b, err := os.ReadFile(filepath.Join(target, "rootfs/etc/conf")); err != nil || string(b) != "a=b\n" {
		t.Errorf("pulled rootfs/etc/conf = %q, %v", b, err)
	}

	// Air-gapped: to an OCI layout and back.
	lay := filepath.Join(t.TempDir(), "layout")
	code, out, errOut = run(t, "push", dir, "--oci-layout", lay)
	if code != 0 || strings.TrimSpace(out) != res.Digest {
		t.Fatalf("push --oci-layout: exit %d stdout %q; want %s\n%s", code, out, res.Digest, errOut)
	}
	code, _, errOut = run(t, "pull", "--oci-layout", lay, filepath.Join(t.TempDir(), "from-layout"))
	if code != 0 {
		t.Fatalf("pull --oci-layout: exit %d\n%s", code, errOut)
	}
	// ... and from the layout to a registry, unchanged.
	code, out, errOut = run(t, "push", lay, host+"/from/layout:1")
	if code != 0 || strings.TrimSpace(out) != host+"/from/layout:1@"+res.Digest {
		t.Fatalf("push LAYOUT REF: exit %d stdout %q; want digest %s\n%s", code, out, res.Digest, errOut)
	}
}

func TestPushPullCLIErrors(t *testing.T) {
	host := memRegistry(t)
	dir := pluginDir(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"push without ref", []string{"push", dir}, 2, "needs a REF"},
		{"push not a dir", []string{"push", filepath.Join(dir, "nope"), host + "/x:1"}, 2, "plugin dir"}, // "neither a plugin directory" or "no such plugin dir" (main),
		{"push bad level", []string{"push", "--compression-level", "11", dir, host + "/x:1"}, 2, "--compression-level 11 out of range"},
		{"pull missing", []string{"pull", host + "/missing:1", filepath.Join(t.TempDir(), "o")}, 1, "not found in the registry"},
		{"pull no dir", []string{"pull", host + "/missing:1"}, 2, "needs REF and DIR"},
		{"pull bad ref", []string{"pull", "Not/A:Ref:", filepath.Join(t.TempDir(), "o")}, 2, "invalid reference"},
		{"pull upper case", []string{"pull", "UPPER/case", filepath.Join(t.TempDir(), "o")}, 2, "repository names must be lowercase"},
		{"pull two colons", []string{"pull", "a:b:c", filepath.Join(t.TempDir(), "o")}, 2, "more than one ':'"},
		{"pull into a non-empty dir", []string{"pull", host + "/missing:1", dir}, 2, dir + " is not empty: give a new or empty directory"},
		{"pull into a file", []string{"pull", host + "/missing:1", filepath.Join(dir, "config.json")}, 2, "exists and is not a directory"},
		{"pull closed port", []string{"pull", closedHost(t) + "/x:1", filepath.Join(t.TempDir(), "o")}, 1, "connection refused (check the host name and port"},
		{"push bad ref", []string{"push", dir, "UPPER/case"}, 2, "pushing UPPER/case: invalid reference: repository names must be lowercase"},
		{"install bad ref", []string{"install", "a:b:c"}, 2, "invalid reference: more than one ':'"},
		{"push into a non-empty non-layout dir", []string{"push", dir, "--oci-layout", dir}, 2, "--oci-layout: " + dir + " is not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.inStderr)
			}
			if out != "" {
				t.Errorf("stdout = %q; want nothing on failure", out)
			}
			if strings.HasPrefix(errOut, "packing ") {
				t.Errorf("stderr %q: packed before failing", errOut)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 1 {
				t.Errorf("stderr has %d lines; want one clear line:\n%s", n+1, errOut)
			}
		})
	}
}

func TestPushFromStore(t *testing.T) {
	host := memRegistry(t)
	dir := pluginDir(t)
	root := t.TempDir()
	code, out, errOut := run(t, "--root", root, "install", "--grant-all-permissions", "--alias", "me/plug:2", dir)
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	// The same plugin pushed from its dir and from the store is the same artifact.
	_, fromDir, _ := run(t, "push", "-o", "json", dir, host+"/a/plug:1")
	code, fromStore, errOut := run(t, "--root", root, "push", "-o", "json", "me/plug:2", host+"/b/plug:1")
	if code != 0 {
		t.Fatalf("push NAME REF: exit %d\n%s", code, errOut)
	}
	var d1, d2 struct{ Digest string }
	json.Unmarshal([]byte(fromDir), &d1)
	json.Unmarshal([]byte(fromStore), &d2)
	if d1.Digest == "" || d1.Digest != d2.Digest {
		t.Errorf("digest from dir %q, from store %q; want the same", d1.Digest, d2.Digest)
	}
	code, _, errOut = run(t, "--root", root, "push", "no/such:plugin", host+"/c/plug:1")
	// An unknown plugin name fails (exit 1) as in rm, inspect, run: the
	// same not-found in every command.
	if code != 1 || !strings.Contains(errOut, `plugin "no/such:plugin" not found`) {
		t.Errorf("push of an unknown NAME: exit %d, %q; want exit 1, not found", code, errOut)
	}
}

// closedHost is a loopback host:port nothing listens on.
func closedHost(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	return host
}
