package cli_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKillDuringPull: a pull killed at any moment leaves DIR absent or
// complete, never half-written; the temp dirs of killed pulls are removed
// by the next pull into the same parent. Set DPLUG_TEST_SEED to replay.
func TestKillDuringPull(t *testing.T) {
	host := memRegistry(t)
	ref := host + "/kill/plug:1"
	src := smallPluginDir(t, 3000, nil)
	files := countFiles(t, filepath.Join(src, "rootfs"))
	if code, _, errOut := dplug(t, "push", src, ref); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, errOut)
	}
	parent := t.TempDir()
	root := t.TempDir()
	start := time.Now()
	if r := runStore(t, root, "pull", ref, filepath.Join(parent, "full")); r.code != 0 {
		t.Fatalf("pull: exit %d: %s", r.code, r.stderr)
	}
	full := time.Since(start)

	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DPLUG_TEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (DPLUG_TEST_SEED=%d replays it); a full pull takes %v", seed, seed, full)
	rng := rand.New(rand.NewPCG(seed, 1))
	iterations := 6
	if testing.Short() {
		iterations = 3
	}
	midway := 0
	for i := 0; i < iterations; i++ {
		dir := filepath.Join(parent, fmt.Sprintf("k%02d", i))
		cmd := storeCmd(root, "pull", ref, dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			// Half the kills wait for the extraction to have begun (its
			// temp dir exists), so that some kill lands mid-extraction
			// however fast the machine is.
			pattern := filepath.Join(parent, fmt.Sprintf(".k%02d.dplug-pull-*", i))
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				if m, _ := filepath.Glob(pattern); len(m) > 0 {
					break
				}
			}
		} else {
			time.Sleep(time.Duration(rng.Int64N(int64(full) * 5 / 4))) // the moment of the kill, not a wait for an event
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if _, err := os.Stat(dir); err == nil {
			if n := countFiles(t, filepath.Join(dir, "rootfs")); n != files {
				t.Errorf("kill %d left %s with %d of %d files", i, dir, n, files)
			}
		}
		if m, _ := filepath.Glob(filepath.Join(parent, fmt.Sprintf(".k%02d.dplug-pull-*", i))); len(m) > 0 {
			midway++
		}
	}
	if midway == 0 {
		t.Errorf("no kill landed during a pull's extraction: the test proved nothing")
	}
	// The next pull into the same parent removes what the killed ones left.
	if r := runStore(t, root, "pull", ref, filepath.Join(parent, "last")); r.code != 0 {
		t.Fatalf("pull after the kills: exit %d: %s", r.code, r.stderr)
	}
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".dplug-pull-") {
			t.Errorf("%s is still in %s after the next pull", e.Name(), parent)
		}
	}
	t.Logf("%d of %d pulls killed mid-extraction", midway, iterations)
}
