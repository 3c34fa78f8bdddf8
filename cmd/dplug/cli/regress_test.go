package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestTestRegressionPlugins runs `dplug test` on plugins that behave like
// real ones dockerd runs fine (internal/testplugin/regplug) and asserts the
// verdict of every check that does not pass.
func TestTestRegressionPlugins(t *testing.T) {
	testenv.RequireRoot(t)
	const (
		create  = "VolumeDriver.Create: Create succeeds"
		pool    = "IpamDriver.RequestPool: RequestPool returns a CIDR pool"
		pingRes = "AuthZPlugin.AuthZRes: AuthZRes answers GET /_ping"
		mkRes   = "AuthZPlugin.AuthZRes: AuthZRes answers POST /containers/create"
	)
	afterCreate := map[string]string{create: "FAIL"}
	for _, k := range []string{"VolumeDriver.List: List includes the new volume", "VolumeDriver.Get: Get returns the volume",
		"VolumeDriver.Mount: Mount returns an absolute mountpoint", "VolumeDriver.Path: Path of a mounted volume is its mountpoint",
		"VolumeDriver.Unmount: Unmount succeeds", "VolumeDriver.Remove: Remove succeeds",
		"VolumeDriver.Get: Get of the removed volume returns no volume", "VolumeDriver.List: List no longer includes it"} {
		afterCreate[k] = "SKIP"
	}
	afterPool := map[string]string{pool: "FAIL"}
	for _, k := range []string{"IpamDriver.RequestPool: RequestPool returns a pool ID",
		"IpamDriver.RequestAddress: RequestAddress returns a gateway address",
		"IpamDriver.RequestAddress: RequestAddress returns an endpoint address",
		"IpamDriver.ReleaseAddress: ReleaseAddress succeeds", "IpamDriver.ReleasePool: ReleasePool succeeds"} {
		afterPool[k] = "SKIP"
	}
	tests := []struct {
		name      string
		mode      string
		args      []string
		wantCode  int
		want      map[string]string // "Method: Name" -> status, for every check not PASS
		decisions map[string]string
		stderr    string
	}{
		{"volume driver needing an option without --opt", testplugin.RegOptVolume, nil, 1, afterCreate, nil, ""},
		{"volume driver needing an option with --opt", testplugin.RegOptVolume, []string{"--opt", "sshcmd=user@host:/srv"}, 0, map[string]string{}, nil, ""},
		{"idempotent Remove", testplugin.RegIdemRemove, nil, 0, map[string]string{}, nil, ""},
		{"settable bind mount with an empty source", testplugin.RegEmptySource, nil, 0, map[string]string{}, nil, ""},
		{"log driver opening its FIFO blocking", testplugin.RegBlockingLog, []string{"--debug"}, 0, map[string]string{}, nil,
			"regplug: log line: dplug probe line 3"},
		{"IPAM needing an explicit subnet and IP without flags", testplugin.RegExplicitIPAM, nil, 1, afterPool, nil, ""},
		{"IPAM needing an explicit subnet and IP with flags", testplugin.RegExplicitIPAM,
			[]string{"--ipam-subnet", "10.20.0.0/24", "--ipam-ip", "10.20.0.5"}, 0, map[string]string{}, nil, ""},
		{"deny-by-default authz", testplugin.RegDenyAuthz, nil, 0, map[string]string{pingRes: "SKIP", mkRes: "SKIP"},
			map[string]string{"AuthZPlugin.AuthZReq: AuthZReq answers GET /_ping": "deny",
				"AuthZPlugin.AuthZReq: AuthZReq answers POST /containers/create": "deny"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testplugin.RegDir(t, tt.mode)
			root := shortRoot(t)
			before := treeFingerprint(t, filepath.Join(dir, "rootfs"))
			args := append(append([]string{"test", "-o", "json"}, tt.args...), dir)
			code, out, errOut := rundplug(t, context.Background(), root, args...)
			var rep struct {
				Failed int
				Checks []struct{ Method, Name, Kind, Status, Reason, Decision string }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("exit %d: %v; stdout:\n%s\nstderr:\n%s", code, err, out, errOut)
			}
			got, decisions := map[string]string{}, map[string]string{}
			for _, c := range rep.Checks {
				if c.Status != "PASS" {
					got[c.Method+": "+c.Name] = c.Status
				}
				if c.Decision != "" {
					decisions[c.Method+": "+c.Name] = c.Decision
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" || code != tt.wantCode {
				t.Errorf("exit %d, want %d; verdicts (-want +got):\n%s\nreport:\n%s\nstderr:\n%s", code, tt.wantCode, d, out, errOut)
			}
			if tt.decisions == nil {
				tt.decisions = map[string]string{}
			}
			if d := cmp.Diff(tt.decisions, decisions); d != "" {
				t.Errorf("authz decisions (-want +got):\n%s", d)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
			// A test never writes into the plugin's own rootfs (the log
			// FIFO goes into the run's overlay).
			if _, err := os.Lstat(filepath.Join(dir, "rootfs", "run")); err == nil {
				t.Errorf("dplug test left %s/rootfs/run", dir)
			}
			if d := cmp.Diff(before, treeFingerprint(t, filepath.Join(dir, "rootfs"))); d != "" {
				t.Errorf("dplug test changed the installed rootfs (-before +after):\n%s", d)
			}
		})
	}
}

// treeFingerprint lists every entry under dir with its mode, size and
// modification time: a file or directory created, removed or written
// changes it.
func treeFingerprint(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, fmt.Sprintf("%s %v %d %d", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTestLogCommaPath: a ',' in the plugin's path, which overlayfs mount
// options cannot carry, still gets an overlay (its layers are named by
// file descriptor), so the log probes run and their FIFO never lands in
// the installed rootfs.
func TestTestLogCommaPath(t *testing.T) {
	testenv.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "log,plugin")
	if err := os.Rename(testplugin.RegDir(t, testplugin.RegBlockingLog), dir); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := rundplug(t, context.Background(), shortRoot(t), "test", dir)
	if code != 0 || !strings.Contains(out, "0 failed, 0 warnings, 0 skipped") {
		t.Errorf("exit %d; stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if _, err := os.Lstat(filepath.Join(dir, "rootfs", "run", "docker", "logging")); err == nil {
		t.Errorf("the log probe wrote into the installed rootfs")
	}
}
