package cli_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/internal/testenv"
)

// The store's command sessions are scripts (store.txtar, install.txtar,
// errors.txtar, inventory.txtar). What stays here needs Go: concurrent
// processes racing for the store and SIGKILL at random moments.

func TestInstallConcurrentProcesses(t *testing.T) {
	root := t.TempDir()
	src := smallPluginDir(t, 200, nil)
	const n = 20
	var wg sync.WaitGroup
	results := make([]storeResult, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			results[i] = runStore(t, root, "install", src, "--alias", fmt.Sprintf("team/p%02d", i), "--grant-all-permissions")
		}()
		// And 20 racing for the same name: exactly one may win.
		go func() {
			defer wg.Done()
			results[n+i] = runStore(t, root, "install", src, "--alias", "same", "--grant-all-permissions")
		}()
	}
	wg.Wait()
	won := 0
	for i, r := range results {
		switch {
		case i < n && r.code != 0:
			t.Errorf("install %d: exit %d: %s", i, r.code, r.stderr)
		case i >= n && r.code == 0:
			won++
		case i >= n && !strings.Contains(r.stderr, "plugin same:latest already exists"):
			t.Errorf("install same #%d: exit %d: %s", i-n, r.code, r.stderr)
		}
	}
	if won != 1 {
		t.Errorf("%d installs of the same name succeeded, want 1", won)
	}
	list := checkStore(t, root, countFiles(t, filepath.Join(src, "rootfs")))
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	want := []string{"same:latest"}
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("team/p%02d:latest", i))
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("ls (-want +got):\n%s", diff)
	}
	ents, _ := os.ReadDir(filepath.Join(root, "plugins"))
	if len(ents) != n+1+4 { // plugin dirs + plugins.json, plugins.json.bak, plugins.lock, tmp
		t.Errorf("store dir has %d entries, want %d", len(ents), n+5)
	}
}

func TestKillDuringInstallAndRemove(t *testing.T) {
	root := t.TempDir()
	src := smallPluginDir(t, 3000, nil)
	files := countFiles(t, filepath.Join(src, "rootfs"))
	start := time.Now()
	mustStore(t, root, "install", src, "--alias", "base", "--grant-all-permissions")
	full := time.Since(start)
	mustStore(t, root, "rm", "-f", "base")
	iterations := 12
	if testing.Short() {
		iterations = 3
	}
	seed := testenv.Seed(t) // the kill moments and victims; timing still varies
	rng := rand.New(rand.NewPCG(seed, 1))
	killAt := func() time.Duration { return time.Duration(rng.Int64N(int64(full) * 5 / 4)) }
	killed, midway := 0, 0
	for i := 0; i < iterations; i++ {
		// Install, killed at a random moment.
		cmd := storeCmd(root, "install", src, "--alias", fmt.Sprintf("k%02d", i), "--grant-all-permissions")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(killAt())
		if cmd.Process.Signal(syscall.SIGKILL) == nil {
			killed++
		}
		cmd.Wait()
		// A work dir left under tmp/ means the kill hit mid-install; the
		// next dplug command (ls, in checkStore) must clean it up.
		if ents, _ := os.ReadDir(filepath.Join(root, "plugins", "tmp")); len(ents) > 0 {
			midway++
		}
		list := checkStore(t, root, files)

		// Remove, killed at a random moment.
		if len(list) > 0 {
			victim := list[rng.IntN(len(list))].Name
			cmd := storeCmd(root, "rm", "-f", victim)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(killAt() / 4)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			checkStore(t, root, files)
		}
	}
	t.Logf("%d iterations, full install %v, %d installs killed mid-extraction", iterations, full, midway)
	if midway == 0 {
		t.Errorf("no kill landed during an install's extraction (seed %d): the test proved nothing", seed)
	}
	// doctor --fix leaves exactly the inventory on disk.
	mustStore(t, root, "doctor", "--fix")
	list := checkStore(t, root, files)
	// (plus plugins.json, .bak, .lock, tmp/ and, if a kill landed between
	// an install's rename and its inventory write, lost+found/).
	ents, _ := os.ReadDir(filepath.Join(root, "plugins"))
	n := 0
	for _, e := range ents {
		if e.Name() != "lost+found" {
			n++
		}
	}
	if n != len(list)+4 {
		t.Errorf("after doctor --fix: %d entries in the store dir for %d plugins", n, len(list))
	}
	if r := runStore(t, root, "doctor"); r.code != 0 || r.stdout != "" {
		t.Errorf("doctor after --fix: exit %d, %q", r.code, r.stdout)
	}
}
