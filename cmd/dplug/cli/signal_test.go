package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// TestSignalsStopCommands: SIGINT or SIGTERM ends a command within a
// second, even while it waits on a registry that never answers (whose own
// timeout is 30 s), with the interrupted exit code and nothing left.
func TestSignalsStopCommands(t *testing.T) {
	addr, accepted := testenv.SilentServer(t)
	ref := addr + "/silent/plugin:1"
	dir := testplugin.Write(t, nil, nil)
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
