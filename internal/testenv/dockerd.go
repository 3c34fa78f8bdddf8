package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Debian's docker.io: dockerd and its 20.10 client. /usr/local/bin/docker may
// be a newer client that the old daemon refuses, so the client is called by
// path.
const (
	DockerdPath     = "/usr/sbin/dockerd"
	DockerPath      = "/usr/bin/docker"
	InstallDockerIO = "apt-get install docker.io"
)

// Dockerd is a private dockerd for tests: its own data root, exec root,
// pidfile and socket in a temporary directory, no iptables, no bridge, the
// vfs storage driver (plugins do not use the graph driver) and the
// containerd it starts itself. Its plugin sockets still live under
// /run/docker/plugins/<id>/, which dockerd hard-codes.
type Dockerd struct {
	Host     string // unix:///.../docker.sock, for docker -H
	DataRoot string
	LogFile  string

	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// StartDockerd starts dockerd, waits until it answers, and stops it in
// t.Cleanup after disabling and removing every plugin it installed.
// insecureRegistries are passed as --insecure-registry (loopback
// registries are insecure by default anyway).
func StartDockerd(t testing.TB, insecureRegistries ...string) *Dockerd {
	t.Helper()
	RequireRoot(t)
	for _, p := range []string{DockerdPath, DockerPath} {
		if _, err := os.Stat(p); err != nil {
			Unavailable(t, "%s not found (install: %s)", p, InstallDockerIO)
		}
	}
	// Not t.TempDir: the socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "dplug-dd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Dockerd{
		Host:     "unix://" + filepath.Join(dir, "docker.sock"),
		DataRoot: filepath.Join(dir, "data"),
		LogFile:  filepath.Join(dir, "dockerd.log"),
		dir:      dir,
		exited:   make(chan struct{}),
	}
	args := []string{
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
		"--storage-driver=vfs",
		"--data-root", d.DataRoot,
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", d.Host,
		"--config-file", filepath.Join(dir, "daemon.json"),
	}
	for _, r := range insecureRegistries {
		args = append(args, "--insecure-registry", r)
	}
	// An empty config keeps the host's /etc/docker/daemon.json out.
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "client"), 0o700); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(d.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(DockerdPath, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir}
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		t.Fatalf("starting dockerd: %v", err)
	}
	logf.Close()
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { d.Stop(t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := d.Docker(context.Background(), "version", "--format", "{{.Server.Version}}"); err == nil {
			break
		}
		select {
		case <-d.exited:
			t.Fatalf("dockerd exited during startup:\n%s", d.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer within 60s:\n%s", d.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// Docker runs the docker 20.10 client against this daemon and returns its
// combined output. The client's config dir is private (no credentials of
// the developer are used or touched).
func (d *Dockerd) Docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, DockerPath, append([]string{"-H", d.Host}, args...)...)
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + d.dir,
		"DOCKER_CONFIG=" + filepath.Join(d.dir, "client"),
		"DOCKER_API_VERSION=1.41",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// MustDocker is Docker that fails t on error.
func (d *Dockerd) MustDocker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.Docker(context.Background(), args...)
	if err != nil {
		t.Fatalf("%v\ndockerd log tail:\n%s", err, tail(d.Log(), 30))
	}
	return out
}

// Log returns dockerd's log so far.
func (d *Dockerd) Log() string {
	b, _ := os.ReadFile(d.LogFile)
	return string(b)
}

// Stop disables and removes every plugin, stops dockerd (SIGTERM, then
// SIGKILL after 20 s), unmounts what it left and removes its directory.
// Safe to call twice.
func (d *Dockerd) Stop(t testing.TB) {
	if d.stopped {
		return
	}
	d.stopped = true
	ctx := context.Background()
	if out, err := d.Docker(ctx, "plugin", "ls", "-q", "--no-trunc"); err == nil {
		for _, id := range strings.Fields(out) {
			_, _ = d.Docker(ctx, "plugin", "disable", "-f", id)
			_, _ = d.Docker(ctx, "plugin", "rm", "-f", id)
			unmountUnder(filepath.Join("/run/docker/plugins", id))
			_ = os.RemoveAll(filepath.Join("/run/docker/plugins", id))
		}
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Logf("dockerd did not stop within 20s; killing it")
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	unmountUnder(d.dir)
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("removing dockerd dir: %v", err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
