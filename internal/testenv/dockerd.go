package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/pinned"
)

// Debian's docker.io: dockerd and its 20.10 client. /usr/local/bin/docker may
// be a newer client that the old daemon refuses, so the client is called by
// path. The 20.10 client (API 1.41) is used against every engine.
const (
	DockerdPath     = "/usr/sbin/dockerd"
	DockerPath      = "/usr/bin/docker"
	InstallDockerIO = "apt-get install docker.io"
)

// Engine is one Docker Engine version the interop tests run against.
type Engine struct {
	// Name is the short name tests put in their names (engine=NAME).
	Name string
	// Dockerd is the dockerd binary.
	Dockerd string
	// Containerd is the containerd binary started beside dockerd, with its
	// own root, state and sockets; "" lets dockerd start the system's
	// containerd itself.
	Containerd string
	// BinDirs are put first on dockerd's and containerd's PATH (for
	// containerd's own shims); runc is always bookworm's /usr/sbin/runc.
	BinDirs []string
	// Install says how to get the engine.
	Install string
}

// Engine26Dir is where scripts/setup.sh unpacks Debian trixie's docker.io
// (dockerd 26.1.5) and containerd (1.7.24) packages; .versions in it names
// the exact package versions.
const Engine26Dir = "/opt/dplug-engines/26"

var (
	// Engine2010 is bookworm's docker.io: dockerd 20.10.24, which starts
	// the system's containerd 1.6 itself.
	Engine2010 = Engine{Name: "20.10", Dockerd: DockerdPath, Install: InstallDockerIO}
	// Engine26 is trixie's dockerd 26.1.5 with containerd 1.7.24, unpacked
	// beside the system by scripts/setup.sh; it runs bookworm's runc
	// (trixie's needs glibc 2.38).
	Engine26 = Engine{
		Name:       "26",
		Dockerd:    filepath.Join(Engine26Dir, "usr/sbin/dockerd"),
		Containerd: filepath.Join(Engine26Dir, "usr/bin/containerd"),
		BinDirs:    []string{filepath.Join(Engine26Dir, "usr/bin"), filepath.Join(Engine26Dir, "usr/sbin")},
		Install:    "scripts/setup.sh",
	}
)

// Engines returns every engine the interop tests run against, oldest
// first. An engine missing on this machine is still listed:
// StartDockerdEngine skips (fails under CI=true) when it starts it.
func Engines() []Engine { return []Engine{Engine2010, Engine26} }

// ForEachEngine runs f as a parallel subtest engine=NAME per engine.
func ForEachEngine(t *testing.T, f func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run("engine="+e.Name, func(t *testing.T) {
			t.Parallel()
			f(t, e)
		})
	}
}

// Dockerd is a private dockerd for tests: its own data root, exec root,
// pidfile and socket in a temporary directory, no iptables, no bridge, the
// vfs storage driver (plugins do not use the graph driver) and a
// containerd of its own (started by dockerd, or beside it for engines that
// bring their own). Its plugin sockets still live under
// /run/docker/plugins/<id>/, which dockerd hard-codes.
type Dockerd struct {
	Host     string // unix:///.../docker.sock, for docker -H
	DataRoot string
	LogFile  string
	Engine   Engine
	Version  string // the server version it reports, e.g. 26.1.5+dfsg1

	dir     string
	cmd     *exec.Cmd
	exited  chan struct{}
	ctd     *exec.Cmd // containerd started beside dockerd, or nil
	ctdExit chan struct{}
	stopped bool
}

// StartDockerd starts dockerd 20.10 (Engine2010), waits until it answers,
// and stops it in t.Cleanup after disabling and removing every plugin it
// installed. insecureRegistries are passed as --insecure-registry
// (loopback registries are insecure by default anyway).
func StartDockerd(t testing.TB, insecureRegistries ...string) *Dockerd {
	t.Helper()
	return StartDockerdEngine(t, Engine2010, insecureRegistries...)
}

// StartDockerdEngine is StartDockerd for the given engine. A missing engine
// skips t (fails it under CI=true) with how to install it.
func StartDockerdEngine(t testing.TB, e Engine, insecureRegistries ...string) *Dockerd {
	t.Helper()
	RequireRoot(t)
	for _, p := range []string{e.Dockerd, e.Containerd, DockerPath} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			Unavailable(t, "engine %s: %s not found (install: %s)", e.Name, p, e.Install)
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
		Engine:   e,
		dir:      dir,
		exited:   make(chan struct{}),
	}
	env := []string{"PATH=" + strings.Join(append(append([]string{}, e.BinDirs...), "/usr/sbin", "/usr/bin", "/sbin", "/bin"), ":"), "HOME=" + dir}
	t.Cleanup(func() { d.Stop(t) })
	args := []string{
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
		"--storage-driver=vfs",
		"--data-root", d.DataRoot,
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", d.Host,
		"--config-file", filepath.Join(dir, "daemon.json"),
	}
	if e.Containerd != "" {
		sock, err := d.startContainerd(t, env)
		if err != nil {
			t.Fatalf("engine %s: %v", e.Name, err)
		}
		args = append(args, "--containerd", sock)
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
	d.cmd = exec.Command(e.Dockerd, args...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.Env = env
	// A fixed working directory: dockerd resolves relative device paths
	// against it.
	d.cmd.Dir = dir
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := pinned.Start(d.cmd); err != nil {
		logf.Close()
		d.cmd = nil
		t.Fatalf("starting dockerd %s: %v", e.Name, err)
	}
	logf.Close()
	go func() { _ = d.cmd.Wait(); close(d.exited) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := d.Docker(context.Background(), "version", "--format", "{{.Server.Version}}")
		if err == nil {
			d.Version = strings.TrimSpace(out)
			break
		}
		select {
		case <-d.exited:
			t.Fatalf("dockerd %s exited during startup:\n%s", e.Name, d.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd %s did not answer within 60s:\n%s", e.Name, d.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// startContainerd starts the engine's own containerd with its root, state,
// sockets and opt dir under d.dir (and no CRI plugin), waits for its socket
// and returns it.
func (d *Dockerd) startContainerd(t testing.TB, env []string) (string, error) {
	sock := filepath.Join(d.dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(d.dir, "containerd"), filepath.Join(d.dir, "containerd-state"), sock, sock+".ttrpc", filepath.Join(d.dir, "containerd-opt"))
	cfgPath := filepath.Join(d.dir, "containerd.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		return "", err
	}
	logPath := filepath.Join(d.dir, "containerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	d.ctd = exec.Command(d.Engine.Containerd, "--config", cfgPath)
	d.ctd.Stdout, d.ctd.Stderr = logf, logf
	d.ctd.Env = env
	d.ctd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := pinned.Start(d.ctd); err != nil {
		d.ctd = nil
		return "", fmt.Errorf("starting containerd: %w", err)
	}
	d.ctdExit = make(chan struct{})
	go func() { _ = d.ctd.Wait(); close(d.ctdExit) }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock, nil
		}
		select {
		case <-d.ctdExit:
			b, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("containerd exited during startup:\n%s", tail(string(b), 30))
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("containerd did not listen on %s within 30s:\n%s", sock, tail(string(b), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// BusyboxRef is the reference LoadBusybox tags the busybox image with.
const BusyboxRef = "dplug.test/busybox:latest"

// LoadBusybox loads the busybox image (from busybox-static, as
// BusyboxLayout; no registry) into d and returns its reference,
// BusyboxRef. It skips (fails in CI) when busybox-static is not installed.
func (d *Dockerd) LoadBusybox(t testing.TB) string {
	t.Helper()
	img := busybox(t)
	archive := filepath.Join(t.TempDir(), "busybox.tar")
	if err := WriteDockerArchive(archive, img, BusyboxRef); err != nil {
		t.Fatal(err)
	}
	d.MustDocker(t, "load", "-i", archive)
	return BusyboxRef
}

// Log returns dockerd's log so far.
func (d *Dockerd) Log() string {
	b, _ := os.ReadFile(d.LogFile)
	return string(b)
}

// Stop disables and removes every plugin, stops dockerd (SIGTERM, then
// SIGKILL after 20 s) and the containerd started beside it, unmounts what
// they left and removes their directory. Safe to call twice.
func (d *Dockerd) Stop(t testing.TB) {
	if d.stopped {
		return
	}
	d.stopped = true
	if d.cmd != nil {
		ctx := context.Background()
		if out, err := d.Docker(ctx, "plugin", "ls", "-q", "--no-trunc"); err == nil {
			for _, id := range strings.Fields(out) {
				_, _ = d.Docker(ctx, "plugin", "disable", "-f", id)
				_, _ = d.Docker(ctx, "plugin", "rm", "-f", id)
				unmountUnder(filepath.Join("/run/docker/plugins", id))
				_ = os.RemoveAll(filepath.Join("/run/docker/plugins", id))
			}
		}
		stopProcess(t, "dockerd", d.cmd, d.exited)
	}
	if d.ctd != nil {
		stopProcess(t, "containerd", d.ctd, d.ctdExit)
	}
	unmountUnder(d.dir)
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("removing dockerd dir: %v", err)
	}
}

// stopProcess sends SIGTERM, then SIGKILL after 20 s, and waits for exited.
func stopProcess(t testing.TB, name string, cmd *exec.Cmd, exited chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Logf("%s did not stop within 20s; killing it", name)
		_ = cmd.Process.Kill()
		<-exited
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
