package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gofrs/flock"
)

// TestWriteFileCrashBeforeRename: a write that dies after the temp file is
// complete but before the rename leaves the old inventory (and its backup)
// exactly as they were, and at that moment the target still holds the old
// content (the new bytes go to a temp file, not into the file in place).
func TestWriteFileCrashBeforeRename(t *testing.T) {
	s, root := openStore(t)
	install(t, s, "a")
	install(t, s, "b")
	plugins := filepath.Join(root, "plugins")
	inv := filepath.Join(plugins, inventoryFile)
	bak := filepath.Join(plugins, backupFile)
	oldInv, _ := os.ReadFile(inv)
	oldBak, _ := os.ReadFile(bak)
	crash := errors.New("crash before rename")
	for _, target := range []string{backupFile, inventoryFile} {
		t.Run(target, func(t *testing.T) {
			var calls []string
			beforeRename = func(tmp, path string) error {
				calls = append(calls, filepath.Base(path))
				now, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("reading %s before the rename: %v", path, err)
				}
				want := oldInv
				if filepath.Base(path) == backupFile {
					want = oldBak
				}
				if string(now) != string(want) {
					t.Errorf("%s changed before its rename: the write is not atomic", path)
				}
				if fi, err := os.Stat(tmp); err != nil || fi.Size() == 0 || !strings.HasPrefix(tmp, filepath.Join(plugins, tmpDir)+"/") {
					t.Errorf("temp file %s: %v, %v", tmp, fi, err)
				}
				if filepath.Base(path) == target {
					return crash
				}
				return nil
			}
			defer func() { beforeRename = nil }()
			if _, err := s.Disable("a"); !errors.Is(err, crash) {
				t.Fatalf("Disable = %v, want the crash", err)
			}
			if len(calls) == 0 {
				t.Fatal("writeFile never reached the point before its rename")
			}
			if got, _ := os.ReadFile(inv); string(got) != string(oldInv) {
				t.Errorf("inventory changed by a write that crashed before its rename:\n%s", got)
			}
			if target == backupFile {
				if got, _ := os.ReadFile(bak); string(got) != string(oldBak) {
					t.Errorf("backup changed by a write that crashed before its rename")
				}
			}
			beforeRename = nil
			if p, err := s.Get("a"); err != nil || !p.Enabled {
				t.Errorf("after the crash: %+v, %v", p, err)
			}
			if ents, _ := os.ReadDir(filepath.Join(plugins, tmpDir)); len(ents) != 0 {
				t.Errorf("temp file left in tmp/: %v", ents)
			}
		})
	}
}

// TestInstallSameNameConcurrently: of several in-process installs racing
// for one name exactly one wins, the others get ErrExists, and the store
// is left with one plugin, no orphan and nothing in tmp/.
func TestInstallSameNameConcurrently(t *testing.T) {
	s, root := openStore(t)
	src := pluginDir(t, testConfig())
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Install(context.Background(), DirSource(src), InstallOptions{Name: "same", Grant: GrantAll})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrExists):
			t.Errorf("losing install: %v, want ErrExists", err)
		}
	}
	if won != 1 {
		t.Errorf("%d installs of the same name succeeded, want 1", won)
	}
	assertClean(t, root, 1)
}

// TestLookupAmbiguousPrefix: an ID prefix two plugins share is an error
// that lists both, never the first match.
func TestLookupAmbiguousPrefix(t *testing.T) {
	id1 := "abc1" + strings.Repeat("0", 60)
	id2 := "abc2" + strings.Repeat("0", 60)
	inv := inventory{
		id1: {ID: id1, Name: "one", Tag: "latest"},
		id2: {ID: id2, Name: "two", Tag: "latest"},
	}
	_, err := inv.lookup("abc")
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("lookup(abc) = %v, want ErrAmbiguous", err)
	}
	want := `multiple plugins found for "abc": one:latest (abc100000000), two:latest (abc200000000); give more of the ID or the name`
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	for prefix, id := range map[string]string{"abc1": id1, "abc2": id2, id2: id2} {
		if p, err := inv.lookup(prefix); err != nil || p.ID != id {
			t.Errorf("lookup(%s) = %v, %v", prefix, p, err)
		}
	}
}

// TestLockExcludes: while the store lock is held nobody else can take it
// (a no-op lock would let a second flock through), and it is free again
// once released.
func TestLockExcludes(t *testing.T) {
	s, root := openStore(t)
	other := flock.New(filepath.Join(root, "plugins", lockFile))
	defer other.Close()
	unlock, err := s.lock()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := other.TryLock(); ok || err != nil {
		t.Fatalf("second lock taken while the store lock is held: %v, %v", ok, err)
	}
	// A second store user blocks until the first releases.
	got := make(chan struct{})
	go func() {
		u, err := s.lock()
		if err != nil {
			t.Error(err)
		} else {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second s.lock() returned while the lock was held")
	default:
	}
	unlock()
	<-got
	if ok, err := other.TryLock(); !ok || err != nil {
		t.Fatalf("lock not free after release: %v, %v", ok, err)
	}
	other.Unlock()
}

// TestCleanSparesLiveWorkDirs: Open and Doctor remove work dirs of dead
// processes but never one a live operation holds.
func TestCleanSparesLiveWorkDirs(t *testing.T) {
	s, root := openStore(t)
	unlock, err := s.lock()
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.newWorkDir()
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	defer live.discard()
	if err := os.WriteFile(filepath.Join(live.path, "data"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(root, "plugins", tmpDir, "work-dead")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	r, err := s.Doctor(true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(live.path, "data")); err != nil {
		t.Fatalf("a live work dir was cleaned: %v", err)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Errorf("dead work dir not cleaned")
	}
	for _, p := range r.Removed {
		if p == live.path {
			t.Errorf("Doctor reports the live work dir removed")
		}
	}
	live.release()
	if r, err := s.Doctor(false); err != nil || len(r.Removed) != 1 || r.Removed[0] != live.path {
		t.Errorf("after release, Doctor = %+v, %v", r, err)
	}
}
