package cli_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// silentServer accepts connections and never answers: the registry that
// would hang a client without timeouts. accepted gets a value per
// connection.
func silentServer(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), ch
}

// TestSignalsStopCommands: SIGINT or SIGTERM ends a command within a
// second, even while it waits on a registry that never answers (whose own
// timeout is 30 s), with the interrupted exit code and nothing left.
func TestSignalsStopCommands(t *testing.T) {
	addr, accepted := silentServer(t)
	ref := addr + "/silent/plugin:1"
	dir := pluginDirForSignals(t)
	for _, tc := range []struct {
		name string
		args []string
		sig  syscall.Signal
	}{
		{"pull SIGTERM", []string{"pull", ref, "OUT"}, syscall.SIGTERM},
		{"pull SIGINT", []string{"pull", ref, "OUT"}, syscall.SIGINT},
		{"install SIGTERM", []string{"install", ref, "--grant-all-permissions"}, syscall.SIGTERM},
		{"push SIGINT", []string{"push", dir, ref}, syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			cmd := exec.Command("dplug", tc.args...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "DPLUG_ROOT="+filepath.Join(work, "root"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-accepted:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("dplug never reached the registry; stderr:\n%s", stderr.String())
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 10 s after %v; stderr:\n%s", tc.sig, stderr.String())
			}
			if took := time.Since(sent); took > time.Second {
				t.Errorf("exited %v after %v, want within a second", took.Round(time.Millisecond), tc.sig)
			}
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("exit code %d, want 130 (interrupted); stderr:\n%s", code, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(work, "OUT")); err == nil {
				t.Errorf("an interrupted pull left OUT behind")
			}
		})
	}
}

// pluginDirForSignals writes a minimal valid plugin dir to push.
func pluginDirForSignals(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sigplug")
	files := map[string]string{
		"config.json": `{"description":"d","documentation":"https://example.invalid","entrypoint":["/plug"],` +
			`"interface":{"types":["docker.volumedriver/1.0"],"socket":"p.sock"}}`,
		"rootfs/plug": "#!/bin/sh\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
