package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/cmd/dplug/cli"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
	"github.com/dplug/dplug/probe"
)

// run, logs, stop, test and rm sessions with a real plugin are a script
// (run_root.txtar). What stays here needs Go: Ctrl-C (a canceled context),
// SIGKILL at random moments, and a request on the plugin's socket mid-run.

func volplugDir(t *testing.T, mode string) string {
	t.Helper()
	testenv.RequireRoot(t)
	cfg := testplugin.Config()
	if mode != "" {
		cfg.Env = append(cfg.Env, plugin.Env{Name: "TESTPLUGIN_MODE", Value: &mode})
	}
	return testplugin.Dir(t, &cfg)
}

// TestLogsFollow: logs -f follows the plugin's output until Ctrl-C (here:
// the context's deadline), which a script cannot send to a command it
// waits for. run, logs and stop themselves are in run_root.txtar.
func TestLogsFollow(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx := context.Background()
	if code, _, errOut := rundplug(t, ctx, root, "run", "--detach", dir); code != 0 {
		t.Fatalf("run --detach: exit %d\n%s", code, errOut)
	}
	defer rundplug(t, ctx, root, "stop", dir)
	fctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	code, out, errOut := rundplug(t, fctx, root, "logs", "-f", dir)
	cancel()
	if code != 0 || !strings.Contains(out, "volplug starting") {
		t.Errorf("logs -f: exit %d, %q, %s", code, out, errOut)
	}
}

// foregroundRun runs `dplug run ARGS` in-process until ctx ends, and
// returns once it has said the plugin is ready (failing t if it never
// does); wait returns its exit code, stdout and stderr.
func foregroundRun(t *testing.T, ctx context.Context, root string, args ...string) (wait func() (int, string, string)) {
	t.Helper()
	var out, errb testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"--root", root, "run"}, args...), strings.NewReader(""), &out, &errb)
	}()
	code := -1
	wait = func() (int, string, string) {
		if code < 0 {
			code = <-done
		}
		return code, out.String(), errb.String()
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errb.String(), "is ready; Ctrl-C stops it") {
		select {
		case code = <-done:
			t.Fatalf("dplug run ended before the plugin was ready: exit %d\n%s", code, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dplug run never said the plugin is ready:\n%s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return wait
}

func TestRunForeground(t *testing.T) {
	dir := volplugDir(t, "")
	root := shortRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	wait := foregroundRun(t, ctx, root, "--grace", "1s", dir)
	cancel() // "press Ctrl-C"
	code, out, errOut := wait()
	if code != 0 || !strings.Contains(out, testplugin.Socket) || !strings.Contains(errOut, "| volplug starting") {
		t.Errorf("exit %d; stdout %q; stderr:\n%s", code, out, errOut)
	}
}

// TestRunPluginDies: a plugin that dies while `dplug run` streams it ends
// the run with exit 1, its exit code and its last words.
func TestRunPluginDies(t *testing.T) {
	dir := volplugDir(t, "dieonremove")
	root := shortRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wait := foregroundRun(t, ctx, root, dir)
	socks, _ := filepath.Glob(filepath.Join(root, "run", "*", "sock", testplugin.Socket))
	if len(socks) != 1 {
		t.Fatalf("sockets %v", socks)
	}
	_, _ = probe.NewClient(socks[0]).Call(ctx, "VolumeDriver.Remove", map[string]string{"Name": "x"})
	code, _, errOut := wait()
	if code != 1 || !strings.Contains(errOut, "exited with code 4") || !strings.Contains(errOut, "dying on Remove") {
		t.Errorf("exit %d; stderr:\n%s", code, errOut)
	}
}

// TestKillDuringRun kills a foreground `dplug run` (a separate process)
// with SIGKILL at random moments — while it starts, while the plugin
// serves — and checks that `dplug doctor` reports what it left and
// `doctor --fix` leaves no mount, cgroup, run dir or plugin process. The
// seed is printed; set DPLUG_KILL_SEED to replay a run.
func TestKillDuringRun(t *testing.T) {
	dir := volplugDir(t, "")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(abs))
	id := hex.EncodeToString(sum[:]) // the ID dplug gives a plugin dir
	root := shortRoot(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DPLUG_KILL_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("DPLUG_KILL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (DPLUG_KILL_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	runCmd := func() *exec.Cmd {
		cmd := exec.Command("dplug", "run", dir)
		cmd.Env = append(os.Environ(), "DPLUG_ROOT="+root)
		return cmd
	}
	// How long a run takes to get ready, to spread the kills over it.
	sock := filepath.Join(root, "run", id[:12], "sock", testplugin.Socket)
	waitReady := func(cmd *exec.Cmd) time.Duration {
		begin := time.Now()
		for time.Since(begin) < 20*time.Second {
			if c, err := probe.Dial(context.Background(), sock); err == nil {
				c.Close()
				return time.Since(begin)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Kill()
		t.Fatal("dplug run never got ready")
		return 0
	}
	cmd := runCmd()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := waitReady(cmd)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	iterations := 8
	if testing.Short() {
		iterations = 3
	}
	leftRunning := 0
	for i := range iterations {
		cmd := runCmd()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		at := time.Duration(rng.Int64N(int64(ready) * 3 / 2))
		time.Sleep(at)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		left, _ := os.ReadDir(filepath.Join(root, "run"))
		out, err := storeCmd(root, "doctor").CombinedOutput()
		if len(left) > 0 && (err == nil || !strings.Contains(string(out), "leftover run")) {
			t.Errorf("iteration %d: the killed run left %v but doctor says (%v):\n%s", i, left, err, out)
		}
		if strings.Contains(string(out), "the plugin still runs") {
			leftRunning++
		}
		fix := storeCmd(root, "doctor", "--fix")
		if out, err := fix.CombinedOutput(); err != nil {
			t.Fatalf("iteration %d (kill after %s): doctor --fix: %v\n%s", i, at, err, out)
		}
		assertNoRun(t, root, id, fmt.Sprintf("iteration %d (kill after %s)", i, at))
		if out, err := storeCmd(root, "doctor").CombinedOutput(); err != nil || !strings.Contains(string(out), "is consistent") {
			t.Fatalf("iteration %d: doctor after --fix: %v\n%s", i, err, out)
		}
	}
	t.Logf("%d kills, ready after %s, %d left the plugin running", iterations, ready, leftRunning)
	if leftRunning == 0 {
		t.Log("no kill landed while the plugin ran: the doctor path for a live orphan was not exercised this time")
	}
}

// assertNoRun fails t if anything of the run of id is left: a mount under
// root, a cgroup, the run dir.
func assertNoRun(t *testing.T, root, id, when string) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, root) {
			t.Errorf("%s: mount left: %s", when, l)
		}
	}
	if dirs, _ := filepath.Glob("/sys/fs/cgroup/*/dplug/" + id); len(dirs) > 0 {
		t.Errorf("%s: cgroups left: %v", when, dirs)
	}
	if _, err := os.Stat("/sys/fs/cgroup/dplug/" + id); err == nil {
		t.Errorf("%s: cgroup left: /sys/fs/cgroup/dplug/%s", when, id)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "run")); len(ents) > 0 {
		t.Errorf("%s: run dir left: %v", when, ents)
	}
	if t.Failed() {
		t.FailNow()
	}
}
