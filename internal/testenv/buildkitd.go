package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/build/buildkitd"
)

// InstallBuildkitd is how CI and developers get the pinned buildkitd.
const InstallBuildkitd = "go build -o bin/buildkitd github.com/moby/buildkit/cmd/buildkitd"

// Buildkitd is a private buildkitd for tests: root mode, runc (OCI) worker,
// state and socket in temporary directories.
type Buildkitd struct {
	Addr    string // unix:///.../buildkitd.sock
	Root    string // its --root
	LogFile string
	// TCPAddr is a second, TLS-only listener (tcp://127.0.0.1:PORT) that
	// wants a client certificate signed by TLS.CA.
	TCPAddr string
	TLS     *TLSFiles

	proc *buildkitd.Process
	dir  string
}

// BuildkitdBinary finds buildkitd on PATH, then at bin/buildkitd in the
// module root; it skips (fails in CI) when neither exists.
func BuildkitdBinary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p
	}
	_, self, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(self), "..", "..", "bin", "buildkitd")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	Unavailable(t, "buildkitd not found on PATH or in bin/ (install: %s)", InstallBuildkitd)
	return ""
}

// StartBuildkitd starts a private buildkitd, waits until it answers, and
// stops it (and removes its state) in t.Cleanup. Each start costs about a
// second of CPU: prefer SharedBuildkitd.
func StartBuildkitd(t testing.TB) *Buildkitd {
	t.Helper()
	b := startBuildkitd(t)
	t.Cleanup(b.Stop)
	return b
}

func startBuildkitd(t testing.TB) *Buildkitd {
	t.Helper()
	RequireRoot(t)
	bin := BuildkitdBinary(t)
	runc := RequireBinary(t, "runc", "apt-get install runc")
	// Not t.TempDir: the socket path must stay short, and the directory must
	// outlive a single test when shared.
	dir, err := os.MkdirTemp("", "dplug-bk-")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "buildkitd.toml")
	// An empty config keeps the host's /etc/buildkit/buildkitd.toml out.
	if err := os.WriteFile(cfg, []byte("# dplug test buildkitd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &Buildkitd{Root: filepath.Join(dir, "root"), LogFile: filepath.Join(dir, "buildkitd.log"), dir: dir}
	if b.TLS, err = WriteTLSFiles(dir); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("writing buildkitd TLS files: %v", err)
	}
	b.TCPAddr = fmt.Sprintf("tcp://127.0.0.1:%d", FreePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := buildkitd.Launch(ctx, buildkitd.Config{
		Binary:     bin,
		Runc:       runc,
		StateDir:   b.Root,
		SocketPath: filepath.Join(dir, "s", "buildkitd.sock"),
		LogFile:    b.LogFile,
		ConfigFile: cfg,
		Debug:      os.Getenv("DPLUG_TEST_BUILDKITD_DEBUG") != "",
		ExtraArgs: []string{"--addr", b.TCPAddr,
			"--tlscacert", b.TLS.CA, "--tlscert", b.TLS.ServerCert, "--tlskey", b.TLS.ServerKey},
	})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("starting buildkitd: %v", err)
	}
	b.proc, b.Addr = p, p.Addr
	return b
}

// Stop terminates the daemon (SIGTERM, then SIGKILL after 15s) and removes
// its state. Safe to call twice.
func (b *Buildkitd) Stop() {
	if b.proc == nil {
		return
	}
	_ = syscall.Kill(b.proc.PID, syscall.SIGTERM)
	select {
	case <-b.proc.Exited():
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(b.proc.PID, syscall.SIGKILL)
		<-b.proc.Exited()
	}
	b.proc = nil
	unmountUnder(b.Root)
	_ = os.RemoveAll(b.dir)
}

var shared struct {
	sync.Mutex
	b *Buildkitd
}

// SharedBuildkitd returns one buildkitd per test process, started on first
// use. The package's TestMain must call StopSharedBuildkitd after m.Run
// (a safety net kills it if the test process dies first).
func SharedBuildkitd(t testing.TB) *Buildkitd {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.b == nil {
		shared.b = startBuildkitd(t)
	}
	return shared.b
}

// StopSharedBuildkitd stops the daemon SharedBuildkitd started, if any.
func StopSharedBuildkitd() {
	shared.Lock()
	defer shared.Unlock()
	if shared.b != nil {
		shared.b.Stop()
		shared.b = nil
	}
}

// unmountUnder lazily unmounts anything a killed daemon left mounted below
// dir, so its removal cannot fail or reach into a mount.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}
