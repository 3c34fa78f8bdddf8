package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	idA = strings.Repeat("a", 64)
	idB = strings.Repeat("b", 64)
)

// entry is a minimal valid inventory record for id.
func entry(id, name string) string {
	return fmt.Sprintf(`{"Id":%q,"Name":%q,"Tag":"latest","Enabled":true,"Config":{},"Settings":{}}`, id, name)
}

// damagedInventories are plugins.json contents every command must refuse
// with one *InventoryError (never a panic, never a wrong answer).
var damagedInventories = map[string]string{
	"empty file":         "",
	"null":               "null",
	"array":              "[]",
	"string":             `"x"`,
	"truncated":          `{"` + idA + `": {"Id": "` + idA,
	"garbage":            "\x00\xffnot json",
	"trailing data":      "{}{}",
	"null entry":         `{"` + idA + `": null}`,
	"null entry bad key": `{"x": null}`,
	"entry not object":   `{"` + idA + `": 3}`,
	"key dotdot":         `{"..": ` + entry("", "evil") + `}`,
	"key climbing":       `{"../../victim": ` + entry("", "evil") + `}`,
	"key absolute":       `{"/etc": ` + entry("", "evil") + `}`,
	"key short":          `{"abc": ` + entry("", "evil") + `}`,
	"key uppercase":      `{"` + strings.ToUpper(idA) + `": ` + entry("", "evil") + `}`,
	"id differs":         `{"` + idA + `": ` + entry(idB, "evil") + `}`,
	"bad name":           `{"` + idA + `": ` + entry(idA, "Evil/../x") + `}`,
	"empty name":         `{"` + idA + `": ` + entry(idA, "") + `}`,
	"name not familiar":  `{"` + idA + `": ` + entry(idA, "docker.io/library/x") + `}`,
	"empty tag":          `{"` + idA + `": {"Name":"x","Tag":""}}`,
	"duplicate name":     `{"` + idA + `": ` + entry(idA, "x") + `, "` + idB + `": ` + entry(idB, "x") + `}`,
	"duplicate key":      `{"` + idA + `": ` + entry(idA, "x") + `, "` + idA + `": ` + entry(idA, "y") + `}`,
	"wrong field type":   `{"` + idA + `": {"Name":"x","Tag":"latest","Enabled":"yes"}}`,
}

func TestDecodeInventory(t *testing.T) {
	for name, data := range damagedInventories {
		t.Run(name, func(t *testing.T) {
			if inv, err := decodeInventory([]byte(data), "/store"); err == nil {
				t.Fatalf("decodeInventory(%q) = %v, want an error", data, inv)
			}
		})
	}
	good := `{"` + idA + `": ` + entry(idA, "x") + `, "` + idB + `": ` + entry("", "team/y") + "}\n"
	inv, err := decodeInventory([]byte(good), "/store")
	if err != nil {
		t.Fatal(err)
	}
	if p := inv[idB]; p == nil || p.ID != idB || p.Dir != "/store/"+idB || p.FullName() != "team/y:latest" {
		t.Errorf("entry without Id decoded as %+v", p)
	}
	if inv, err := decodeInventory([]byte("{}"), "/store"); err != nil || len(inv) != 0 {
		t.Errorf("empty inventory: %v, %v", inv, err)
	}
}

// twoPlugins installs a and b (b with a setting) and does one more change,
// so that plugins.json.bak lists both.
func twoPlugins(t *testing.T, s *Store) (a, b *Plugin) {
	t.Helper()
	a = install(t, s, "team/a:1")
	install(t, s, "b", func(o *InstallOptions) { o.Settings = []string{"DEBUG=1"} })
	install(t, s, "c")
	if err := s.Remove("c", true); err != nil {
		t.Fatal(err)
	}
	b, err := s.Get("b")
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestDamagedInventory(t *testing.T) {
	for name, data := range damagedInventories {
		t.Run(name, func(t *testing.T) {
			s, root := openStore(t)
			a, b := twoPlugins(t, s)
			want, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, "plugins", "plugins.json")
			if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			// Open still works (doctor needs it); every reader and writer
			// gets the one clear error.
			s, err = Open(root)
			if err != nil {
				t.Fatalf("Open on a damaged inventory: %v", err)
			}
			_, errList := s.List()
			_, errGet := s.Get("b")
			_, errEnable := s.Disable("b")
			_, errSet := s.Set("team/a:1", []string{"DEBUG=2"})
			errRm := s.Remove("b", true)
			_, errInstall := s.Install(context.Background(), DirSource(pluginDir(t, testConfig())), InstallOptions{Name: "c", Grant: GrantAll})
			for op, err := range map[string]error{"List": errList, "Get": errGet, "Disable": errEnable, "Set": errSet, "Remove": errRm, "Install": errInstall} {
				var ie *InventoryError
				if !errors.Is(err, ErrDamaged) || !errors.As(err, &ie) {
					t.Errorf("%s = %v, want an *InventoryError", op, err)
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "dplug doctor --fix") {
					t.Errorf("%s error %q does not name the file and the repair", op, msg)
				}
			}
			for _, p := range []*Plugin{a, b} {
				if _, err := os.Stat(p.Rootfs()); err != nil {
					t.Fatalf("plugin dir lost: %v", err)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != data {
				t.Fatalf("damaged inventory changed without --fix: %q", got)
			}

			r, err := s.Doctor(false)
			if err != nil {
				t.Fatalf("Doctor(false): %v", err)
			}
			if r.Damaged == "" || len(r.Recovered) != 2 || len(r.MovedAside) != 0 {
				t.Fatalf("Doctor(false) = %+v", r)
			}
			if got, _ := os.ReadFile(path); string(got) != data {
				t.Fatalf("Doctor(false) changed the inventory: %q", got)
			}
			if r, err = s.Doctor(true); err != nil {
				t.Fatalf("Doctor(true) = %+v, %v", r, err)
			}
			got, err := s.List()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rebuilt inventory (-want +got):\n%s", diff)
			}
			for _, rec := range r.Recovered {
				if rec.From != backupFile {
					t.Errorf("recovered %+v: name not taken from the backup", rec)
				}
			}
			// The damaged file is kept, and said where.
			if len(r.MovedAside) != 1 || r.MovedAside[0].From != path {
				t.Fatalf("MovedAside = %+v", r.MovedAside)
			}
			if kept, err := os.ReadFile(r.MovedAside[0].To); err != nil || string(kept) != data {
				t.Errorf("damaged inventory kept as %s: %q, %v", r.MovedAside[0].To, kept, err)
			}
			if r, err := s.Doctor(false); err != nil || r.Damaged != "" || len(r.Orphans)+len(r.Missing)+len(r.Resynced)+len(r.MovedAside) != 0 {
				t.Errorf("Doctor after fix = %+v, %v", r, err)
			}
			assertClean(t, root, 2)
		})
	}
}

// TestDoctorRebuildWithoutBackup: a plugin the backup does not know gets
// a name derived from its ID, disabled; a dir that is no plugin is moved
// to lost+found, never deleted.
func TestDoctorRebuildWithoutBackup(t *testing.T) {
	s, root := openStore(t)
	a := install(t, s, "a")
	b := install(t, s, "b") // plugins.json.bak lists only a
	plugins := filepath.Join(root, "plugins")
	junk := filepath.Join(plugins, strings.Repeat("c", 64))
	if err := os.MkdirAll(filepath.Join(junk, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(junk, "rootfs", "data"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "plugins.json"), []byte("null"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	wantRec := []Recovered{
		{ID: a.ID, Name: "a:latest", Enabled: true, From: backupFile},
		{ID: b.ID, Name: "recovered-" + b.ShortID() + ":latest", Enabled: false, From: fromDerived},
	}
	sort.Slice(wantRec, func(i, j int) bool { return wantRec[i].Name < wantRec[j].Name })
	if diff := cmp.Diff(wantRec, r.Recovered); diff != "" {
		t.Errorf("Recovered (-want +got):\n%s", diff)
	}
	moved := filepath.Join(plugins, "lost+found", filepath.Base(junk))
	if len(r.MovedAside) != 2 || r.MovedAside[1].From != junk || r.MovedAside[1].To != moved {
		t.Fatalf("MovedAside = %+v", r.MovedAside)
	}
	if got, err := os.ReadFile(filepath.Join(moved, "rootfs", "data")); err != nil || string(got) != "precious" {
		t.Errorf("junk dir not kept in lost+found: %q, %v", got, err)
	}
	if p, err := s.Get("recovered-" + b.ShortID()); err != nil || p.ID != b.ID || p.Enabled {
		t.Errorf("Get recovered = %+v, %v", p, err)
	}
	assertClean(t, root, 2)
}

// TestDoctorOrphans: with a valid inventory, an orphan the last change
// dropped (listed in plugins.json.bak: an interrupted rm) is deleted; one
// nothing accounts for is moved to lost+found.
func TestDoctorOrphans(t *testing.T) {
	s, root := openStore(t)
	install(t, s, "keep")
	gone := install(t, s, "gone")
	plugins := filepath.Join(root, "plugins")
	// An rm killed after its inventory write: the dir stays, the backup
	// still lists it.
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.Rename(gone.Dir, saved); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("gone", true); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(saved, gone.Dir); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(plugins, strings.Repeat("d", 64))
	if err := os.MkdirAll(filepath.Join(unknown, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{gone.Dir}, r.Deleted); diff != "" {
		t.Errorf("Deleted (-want +got):\n%s", diff)
	}
	if len(r.MovedAside) != 1 || r.MovedAside[0].From != unknown {
		t.Errorf("MovedAside = %+v", r.MovedAside)
	}
	if _, err := os.Stat(gone.Dir); err != nil {
		t.Fatalf("Doctor(false) deleted: %v", err)
	}
	if _, err := s.Doctor(true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(gone.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed plugin's dir still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(plugins, "lost+found", filepath.Base(unknown), "rootfs")); err != nil {
		t.Errorf("unknown dir not in lost+found: %v", err)
	}
	assertClean(t, root, 1)
}

// TestInventoryBackup: plugins.json.bak is the previous generation.
func TestInventoryBackup(t *testing.T) {
	s, root := openStore(t)
	a := install(t, s, "a")
	install(t, s, "b")
	b, err := os.ReadFile(filepath.Join(root, "plugins", backupFile))
	if err != nil {
		t.Fatal(err)
	}
	bak, err := decodeInventory(b, s.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(bak) != 1 || bak[a.ID] == nil {
		t.Errorf("backup = %v, want only a", bak)
	}
	if fi, err := os.Stat(filepath.Join(root, "plugins", backupFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode: %v, %v", fi, err)
	}
}

// TestStoredPathsStayInRoot: an inventory key that climbs out is refused
// as damage (it used to make rm -f delete a dir outside the store), and a
// plugin dir replaced by a symlink out of the store is refused too.
func TestStoredPathsStayInRoot(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "plug")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.MkdirAll(filepath.Join(victim, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(root, "plugins", "plugins.json")
	good, _ := os.ReadFile(inv)
	for _, key := range []string{"..", "../../" + filepath.Base(victim), victim} {
		data := `{` + mustJSON(t, key) + `: ` + entry("", "evil") + `}`
		if err := os.WriteFile(inv, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove("evil", true); !errors.Is(err, ErrDamaged) {
			t.Errorf("key %q: Remove = %v, want ErrDamaged", key, err)
		}
		if _, err := s.Get("evil"); !errors.Is(err, ErrDamaged) {
			t.Errorf("key %q: Get = %v, want ErrDamaged", key, err)
		}
	}
	if err := os.WriteFile(inv, good, 0o600); err != nil {
		t.Fatal(err)
	}
	// The plugin dir swapped for a symlink to the victim.
	if err := os.Rename(p.Dir, p.Dir+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, p.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("plug"); err == nil {
		t.Error("Get through a symlinked plugin dir succeeded")
	}
	if err := s.Remove("plug", true); err == nil {
		t.Error("Remove through a symlinked plugin dir succeeded")
	}
	if _, err := os.Stat(filepath.Join(victim, "data")); err != nil {
		t.Fatalf("victim outside the store touched: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "plugins")); err != nil {
		t.Fatalf("store root gone: %v", err)
	}
	// doctor --fix drops the entry and moves the link, not its target.
	r, err := s.Doctor(true)
	if err != nil || len(r.Missing) != 1 {
		t.Fatalf("Doctor(true) = %+v, %v", r, err)
	}
	var link string
	for _, m := range r.MovedAside { // also the .real dir, an orphan now
		if m.From == p.Dir {
			link = m.To
		}
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("symlink not moved aside: %+v: %v, %v", r.MovedAside, fi, err)
	}
	assertClean(t, root, 0)
	if _, err := os.Stat(filepath.Join(victim, "data")); err != nil {
		t.Fatalf("victim outside the store touched: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDoctorMissingRootfs: an entry whose rootfs is gone is dropped and
// what is left of its dir is moved aside with it (never deleted later as
// the orphan of a removed plugin).
func TestDoctorMissingRootfs(t *testing.T) {
	s, root := openStore(t)
	p := install(t, s, "broken")
	if err := os.RemoveAll(p.Rootfs()); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(root, "plugins", "lost+found", p.ID)
	if len(r.Missing) != 1 || len(r.MovedAside) != 1 || r.MovedAside[0].To != moved {
		t.Fatalf("Doctor(true) = %+v", r)
	}
	if _, err := os.Stat(filepath.Join(moved, "config.json")); err != nil {
		t.Errorf("config.json not kept: %v", err)
	}
	if r, err := s.Doctor(false); err != nil || len(r.Deleted)+len(r.MovedAside)+len(r.Missing)+len(r.Orphans) != 0 {
		t.Errorf("Doctor after fix = %+v, %v", r, err)
	}
	assertClean(t, root, 0)
}

// TestSymlinkedWorkDirs: tmp/ or lost+found/ replaced by a symlink out of
// the store is refused, never cleaned through or moved into.
func TestSymlinkedWorkDirs(t *testing.T) {
	for _, name := range []string{tmpDir, lostFoundDir} {
		t.Run(name, func(t *testing.T) {
			s, root := openStore(t)
			install(t, s, "plug")
			victim := t.TempDir()
			if err := os.WriteFile(filepath.Join(victim, "precious"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			plugins := filepath.Join(root, "plugins")
			os.RemoveAll(filepath.Join(plugins, name))
			if err := os.Symlink(victim, filepath.Join(plugins, name)); err != nil {
				t.Fatal(err)
			}
			// An orphan for doctor --fix to move aside.
			if err := os.MkdirAll(filepath.Join(plugins, strings.Repeat("e", 64), "rootfs"), 0o755); err != nil {
				t.Fatal(err)
			}
			Open(root)
			s.Doctor(true)
			ents, _ := os.ReadDir(victim)
			if len(ents) != 1 || ents[0].Name() != "precious" {
				t.Errorf("%s symlinked outside: the target now holds %v", name, ents)
			}
		})
	}
}

// TestDoctorDamagedKeyNotDeleted: an inventory whose key was damaged into
// another valid ID looks like "the plugin was removed" to a naive check
// (the backup lists the dir, the inventory does not); doctor --fix must
// keep the dir (in lost+found), not delete it.
func TestDoctorDamagedKeyNotDeleted(t *testing.T) {
	s, root := openStore(t)
	install(t, s, "a")
	b := install(t, s, "b")
	install(t, s, "c") // the backup now lists a and b
	path := filepath.Join(root, "plugins", inventoryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("f", 64)
	data = []byte(strings.ReplaceAll(string(data), b.ID, other))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Deleted) != 0 {
		t.Fatalf("Deleted %v", r.Deleted)
	}
	if _, err := os.Stat(filepath.Join(root, "plugins", "lost+found", b.ID, "rootfs")); err != nil {
		t.Errorf("b's dir not kept: %v (report %+v)", err, r)
	}
}

// TestDoctorLosesNoPlugin damages a real inventory in many ways (cut at
// offsets, one byte changed) and checks that doctor --fix keeps every
// plugin dir: listed in the inventory or kept in lost+found, never deleted.
func TestDoctorLosesNoPlugin(t *testing.T) {
	s, tmpl := openStore(t)
	var ids []string
	for _, n := range []string{"a", "team/b:2", "c"} {
		ids = append(ids, install(t, s, n).ID)
	}
	if _, err := s.Disable("c"); err != nil { // the backup lists all three
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(tmpl, "plugins", inventoryFile))
	if err != nil {
		t.Fatal(err)
	}
	var cases [][]byte
	for i := 1; i <= 12; i++ {
		cases = append(cases, orig[:len(orig)*i/13])
	}
	for i := 0; i < 12; i++ {
		b := append([]byte(nil), orig...)
		b[len(b)*i/12+i] ^= 0x04 // 'a'<->'e', '"'<->'&', ...
		cases = append(cases, b)
	}
	// An ID damaged into another valid one, in the key and the entry's Id
	// alike: the inventory still decodes.
	for _, id := range ids {
		other := "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", id[0])+1)%16:][:1] + id[1:]
		cases = append(cases, []byte(strings.ReplaceAll(string(orig), id, other)))
	}
	for i, data := range cases {
		root := t.TempDir()
		if out, err := exec.Command("cp", "-a", filepath.Join(tmpl, "plugins"), root).CombinedOutput(); err != nil {
			t.Fatalf("copying the store: %v\n%s", err, out)
		}
		plugins := filepath.Join(root, "plugins")
		if err := os.WriteFile(filepath.Join(plugins, inventoryFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.Doctor(true)
		if err != nil {
			t.Fatalf("case %d: Doctor(true): %v", i, err)
		}
		for _, id := range ids {
			kept, _ := filepath.Glob(filepath.Join(plugins, "lost+found", id+"*", "rootfs"))
			if _, err := os.Stat(filepath.Join(plugins, id, "rootfs")); err != nil && len(kept) == 0 {
				t.Errorf("case %d: plugin %s lost; report %+v", i, id[:12], r)
			}
		}
		if _, err := st.List(); err != nil {
			t.Errorf("case %d: List after doctor --fix: %v", i, err)
		}
	}
}

// TestDoctorInterruptedReplace: the old dir of an install --replace killed
// after its inventory write is accounted for (the backup lists it, the
// inventory swapped it for a complete plugin of the same name): deleted.
func TestDoctorInterruptedReplace(t *testing.T) {
	s, root := openStore(t)
	old := install(t, s, "p", func(o *InstallOptions) { o.Disabled = true })
	saved := filepath.Join(t.TempDir(), "saved")
	if err := os.Rename(old.Dir, saved); err != nil {
		t.Fatal(err)
	}
	install(t, s, "p", func(o *InstallOptions) { o.Replace = true })
	if err := os.Rename(saved, old.Dir); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{old.Dir}, r.Deleted); diff != "" || len(r.MovedAside) != 0 {
		t.Errorf("Deleted (-want +got):\n%s\nMovedAside %+v", diff, r.MovedAside)
	}
	assertClean(t, root, 1)
}
