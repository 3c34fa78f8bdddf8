package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/probe"
)

// implements is what each type answers to /Plugin.Activate.
var implements = map[string]string{
	"volume":  "VolumeDriver",
	"authz":   "authz",
	"ipam":    "IpamDriver",
	"log":     "LogDriver",
	"network": "NetworkDriver",
}

// TestScaffoldBuilds generates every type as its own module, then builds,
// vets and tests it with the go command as a user would, checks go.mod is
// tidy, and runs the binary: it must serve /Plugin.Activate on its socket and
// stop cleanly on SIGTERM. No root needed; modules come from GOPROXY or the
// module cache.
func TestScaffoldBuilds(t *testing.T) {
	goBin := testenv.RequireBinary(t, "go", "https://go.dev/doc/install")
	for _, typ := range Types() {
		t.Run(typ, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-"+typ)
			if _, err := Write(dir, typ, WithName("my-"+typ), WithModule("example.com/my-"+typ)); err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(t.TempDir(), "plugin")
			goCmd := func(args ...string) {
				t.Helper()
				cmd := exec.Command(goBin, args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go %v: %v\n%s", args, err, out)
				}
			}
			goCmd("build", "-o", bin, ".")
			goCmd("vet", ".")
			goCmd("test", "-count=1", ".")
			goCmd("mod", "tidy", "-diff")
			runPlugin(t, bin, typ)
		})
	}
}

// runPlugin starts bin, a plugin of type typ, on a socket in a temp dir,
// checks its activation answer, runs dplug test's probes against it (those
// that need the plugin's rootfs skip), then stops it with SIGTERM.
func runPlugin(t *testing.T, bin, typ string) {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "scaffold-sock-") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "p.sock")
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-socket", sock, "-root", filepath.Join(sockDir, "volumes"))
	if typ != "volume" {
		cmd = exec.Command(bin, "-socket", sock)
	}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})

	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}, Timeout: 2 * time.Second}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = client.Post("http://plugin/Plugin.Activate", "application/json", nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin never answered on %s: %v\n%s", sock, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var act struct{ Implements []string }
	err = json.NewDecoder(resp.Body).Decode(&act)
	resp.Body.Close()
	if want := implements[typ]; err != nil || !slices.Equal(act.Implements, []string{want}) {
		t.Errorf("/Plugin.Activate = %+v (%v), want Implements [%s]", act, err, want)
	}

	// dplug test's probes: valid and invalid requests per interface type.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := probe.Run(ctx, sock, []string{kinds[typ].iface})
	for _, c := range rep.Checks {
		if c.Status == probe.StatusFail || c.Status == probe.StatusWarn {
			t.Errorf("probe %s %s (%s): %s %s", c.Interface, c.Name, c.Method, c.Status, c.Reason)
		}
	}
	if rep.Failed() > 0 {
		t.Logf("plugin log:\n%s", stderr.String())
	}
	t.Logf("%d probes, %d skipped", len(rep.Checks), rep.Skipped())

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("plugin exited with %v after SIGTERM\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("plugin ignored SIGTERM\n%s", stderr.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left behind after stop", sock)
	}
}
