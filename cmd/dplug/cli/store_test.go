package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/plugin"
)

// storeResult is one finished dplug process.
type storeResult struct {
	stdout, stderr string
	code           int
}

// dplugCmd prepares the dplug command (the test binary, see TestMain) on
// the store under root.
func storeCmd(root string, args ...string) *exec.Cmd {
	cmd := exec.Command("dplug", args...)
	cmd.Env = append(os.Environ(), "DPLUG_ROOT="+root)
	return cmd
}

func runStore(t *testing.T, root string, args ...string) storeResult {
	t.Helper()
	cmd := storeCmd(root, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running dplug %v: %v", args, err)
	}
	return storeResult{out.String(), errb.String(), code}
}

func mustStore(t *testing.T, root string, args ...string) string {
	t.Helper()
	r := runStore(t, root, args...)
	if r.code != 0 {
		t.Fatalf("dplug %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// smallPluginDir writes a plugin dir whose rootfs has n small files in
// nested dirs, a symlink and a hard link.
func smallPluginDir(t *testing.T, n int, cfg *plugin.Config) string {
	t.Helper()
	dir := t.TempDir()
	if cfg == nil {
		c := plugin.Config{Description: "store test plugin", Documentation: "https://example.invalid",
			Entrypoint: []string{"/bin/plug"}, Interface: plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"}}
		cfg = &c
	}
	b, _ := cfg.Marshal()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, "rootfs", fmt.Sprintf("d%02d", i%50), fmt.Sprintf("f%05d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("x", i%300)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "rootfs", "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "rootfs", "bin", "plug"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("plug", filepath.Join(dir, "rootfs", "bin", "alias"))
	os.Link(filepath.Join(dir, "rootfs", "bin", "plug"), filepath.Join(dir, "rootfs", "bin", "hard"))
	return dir
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type lsEntry struct {
	ID, Name string
	Enabled  bool
}

func storeLs(t *testing.T, root string) []lsEntry {
	t.Helper()
	var out []lsEntry
	if err := json.Unmarshal([]byte(mustStore(t, root, "ls", "--no-trunc", "-o", "json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkStore asserts the invariants a kill must never break: ls works,
// every listed plugin is complete on disk, tmp/ holds nothing once doctor
// ran, and nothing unlisted is ever shown as a plugin.
func checkStore(t *testing.T, root string, files int) []lsEntry {
	t.Helper()
	list := storeLs(t, root)
	plugins := filepath.Join(root, "plugins")
	listed := map[string]bool{}
	for _, p := range list {
		listed[p.ID] = true
		dir := filepath.Join(plugins, p.ID)
		if got := countFiles(t, filepath.Join(dir, "rootfs")); got != files {
			t.Fatalf("listed plugin %s has %d rootfs files, want %d (partial install visible)", p.Name, got, files)
		}
		fi, err := os.Stat(filepath.Join(dir, "config.json"))
		if err != nil || fi.Mode().Perm() != 0o444 {
			t.Fatalf("listed plugin %s config.json: %v %v", p.Name, fi, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "plugin-settings.json")); err != nil {
			t.Fatalf("listed plugin %s: %v", p.Name, err)
		}
	}
	r := runStore(t, root, "doctor", "-o", "json")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("doctor: exit %d\n%s", r.code, r.stderr)
	}
	var rep struct{ Removed, Orphans, Missing, Resynced []string }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor output %q: %v", r.stdout, err)
	}
	if len(rep.Missing)+len(rep.Resynced) > 0 {
		t.Fatalf("doctor found broken plugins: %+v", rep)
	}
	for _, o := range rep.Orphans {
		if listed[filepath.Base(o)] {
			t.Fatalf("orphan %s is listed as a plugin", o)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(plugins, "tmp")); len(ents) != 0 {
		t.Fatalf("tmp/ not empty after doctor: %v", ents)
	}
	return list
}

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

// TestInstallPrompt drives the privilege prompt through a pseudo-terminal.
func TestInstallPrompt(t *testing.T) {
	cfg := testplugin.Config()
	cfg.Mounts = []plugin.Mount{{Name: "data", Source: strPtr("/var/lib/x"), Destination: "/x", Type: "bind", Options: []string{"rbind"}}}
	src := smallPluginDir(t, 1, &cfg)
	tests := []struct {
		answer string
		code   int
	}{{"y\n", 0}, {"yes\n", 0}, {"n\n", 1}, {"\n", 1}}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			root := t.TempDir()
			cmd := storeCmd(root, "install", src, "--alias", "priv")
			f, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var (
				mu  sync.Mutex
				out bytes.Buffer
			)
			prompted, drained := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(drained) // the pty reads EIO once the command is gone
				r := bufio.NewReader(f)
				once := sync.Once{}
				for {
					b, err := r.ReadByte()
					if err != nil {
						return
					}
					mu.Lock()
					out.WriteByte(b)
					if strings.HasSuffix(out.String(), "[y/N] ") {
						once.Do(func() { close(prompted) })
					}
					mu.Unlock()
				}
			}()
			select {
			case <-prompted:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("no prompt; got %q", out.String())
			}
			if _, err := f.Write([]byte(tt.answer)); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			select {
			case <-drained:
			case <-time.After(10 * time.Second):
				t.Fatal("the pty still gives output 10s after the command exited")
			}
			mu.Lock()
			got := strings.ReplaceAll(out.String(), "\r\n", "\n")
			mu.Unlock()
			wantPrompt := `Plugin "priv" is requesting the following privileges:
 - network: [host]
 - mount: [/var/lib/x]
 - capabilities: [CAP_SYS_ADMIN]
Do you grant the above permissions? [y/N] `
			if !strings.HasPrefix(got, wantPrompt) {
				t.Errorf("prompt:\n%s\nwant:\n%s", got, wantPrompt)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, got)
			}
			n := len(storeLs(t, root))
			if tt.code == 0 && n != 1 || tt.code != 0 && n != 0 {
				t.Errorf("%d plugins installed after answer %q", n, tt.answer)
			}
			if tt.code != 0 && !strings.Contains(got, "privileges not granted") {
				t.Errorf("refusal not explained: %q", got)
			}
		})
	}
	t.Run("no terminal", func(t *testing.T) {
		root := t.TempDir()
		r := runStore(t, root, "install", src, "--alias", "priv")
		if r.code != 1 || !strings.Contains(r.stderr, "--grant-all-permissions") || !strings.Contains(r.stderr, "no terminal") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if ents, _ := os.ReadDir(filepath.Join(root, "plugins")); len(ents) > 2 { // tmp, plugins.lock
			t.Errorf("refused install wrote to the store: %v", ents)
		}
	})
}

func strPtr(s string) *string { return &s }

func TestStoreCommands(t *testing.T) {
	root := t.TempDir()
	cfg := plugin.Config{Description: "settable", Documentation: "x", Entrypoint: []string{"/bin/plug"},
		Interface: plugin.Interface{Types: []string{plugin.TypeVolume}, Socket: "p.sock"},
		Env:       []plugin.Env{{Name: "DEBUG", Settable: []string{"value"}, Value: strPtr("0")}},
		Args:      plugin.Args{Name: "args", Settable: []string{"value"}}}
	src := smallPluginDir(t, 3, &cfg)
	if got := mustStore(t, root, "install", src, "--alias", "me/set:1", "--disable", "DEBUG=2"); got != "me/set:1\n" {
		t.Errorf("install printed %q", got)
	}
	var insp []struct {
		ID              string `json:"Id"`
		Name            string
		Enabled         bool
		Settings        plugin.Settings
		PluginReference string
		Config          plugin.Config
	}
	if err := json.Unmarshal([]byte(mustStore(t, root, "inspect", "me/set:1")), &insp); err != nil {
		t.Fatal(err)
	}
	if len(insp) != 1 || insp[0].Enabled || insp[0].Settings.Env[0] != "DEBUG=2" || insp[0].Config.Description != "settable" {
		t.Fatalf("inspect = %+v", insp)
	}
	mustStore(t, root, "set", "me/set:1", "DEBUG=3", "args=-a -b")
	if got := mustStore(t, root, "inspect", "-f", "{{.Settings.Env}} {{.Settings.Args}} {{.Enabled}}", "me/set:1"); got != "[DEBUG=3] [-a -b] false\n" {
		t.Errorf("after set: %q", got)
	}
	for _, tt := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"set", "me/set:1", "NOPE=1"}, 1, `setting "NOPE" not found in the plugin configuration`},
		{[]string{"set", "me/set:1", "=1"}, 1, "invalid format, must be <name>[.<field>][=<value>]"},
		{[]string{"enable", "me/set:1"}, 0, ""},
		{[]string{"set", "me/set:1", "DEBUG=4"}, 1, "cannot set on an active plugin, disable plugin before setting"},
		{[]string{"enable", "me/set:1"}, 1, "plugin already enabled: plugin me/set:1 is enabled"},
		{[]string{"rm", "me/set:1"}, 1, "plugin me/set:1 is enabled"},
		{[]string{"inspect", "nope"}, 1, `plugin "nope" not found`},
		{[]string{"install", "/nonexistent/dir"}, 2, "no such plugin dir (config.json + rootfs/) or OCI layout"},
		{[]string{"ls", "--format", "{{.Name"}, 2, "parsing --format"},
	} {
		r := runStore(t, root, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.err) {
			t.Errorf("dplug %v: exit %d %q, want exit %d with %q", tt.args, r.code, r.stderr, tt.code, tt.err)
		}
	}
	if got := mustStore(t, root, "ls", "--format", "{{.Name}} {{.Enabled}} {{.Description}}"); got != "me/set:1 true settable\n" {
		t.Errorf("ls --format: %q", got)
	}
	table := mustStore(t, root, "ls")
	if !strings.HasPrefix(table, "ID             NAME       DESCRIPTION   ENABLED\n") || !strings.Contains(table, "me/set:1   settable      true") {
		t.Errorf("ls table:\n%s", table)
	}
	if id := strings.TrimSpace(mustStore(t, root, "ls", "-q")); len(id) != 12 {
		t.Errorf("ls -q: %q", id)
	}
	exp := filepath.Join(t.TempDir(), "exp")
	mustStore(t, root, "export", "me/set:1", exp)
	if got, want := countFiles(t, filepath.Join(exp, "rootfs")), countFiles(t, filepath.Join(src, "rootfs")); got != want {
		t.Errorf("exported %d files, want %d", got, want)
	}
	mustStore(t, root, "rm", "-f", "me/set:1")
	if list := storeLs(t, root); len(list) != 0 {
		t.Errorf("after rm: %v", list)
	}
}
