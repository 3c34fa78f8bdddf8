package pack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadPullRecord: a record is one absolute, clean path of at most
// 4096 bytes (the newline included); anything else is not a record.
func TestReadPullRecord(t *testing.T) {
	long := "/" + strings.Repeat("a", 4094) // 4095 bytes, 4096 with the newline
	for _, tc := range []struct {
		name, content string
		want          string // "" when refused
	}{
		{"newline", "/srv/plugins\n", "/srv/plugins"},
		{"no newline", "/srv/plugins", "/srv/plugins"},
		{"4096 bytes", long + "\n", long},
		{"4097 bytes", long + "a\n", ""},
		{"relative", "srv/plugins\n", ""},
		{"not clean", "/srv/../plugins\n", ""},
		{"trailing slash", "/srv/plugins/\n", ""},
		{"two lines", "/srv/plugins\n/etc\n", ""},
		{"NUL", "/srv/plu\x00gins\n", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "rec")
			if err := os.WriteFile(rec, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, ok := readPullRecord(rec)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("readPullRecord(%q) = %q, %v; want %q, %v", tc.content, got, ok, tc.want, tc.want != "")
			}
		})
	}
	dir := t.TempDir()
	if got, ok := readPullRecord(dir); ok {
		t.Errorf("readPullRecord(a directory) = %q, true; want it refused", got)
	}
	if got, ok := readPullRecord(filepath.Join(dir, "missing")); ok {
		t.Errorf("readPullRecord(a missing file) = %q, true; want it refused", got)
	}
}

// TestRecordedStalePulls: the records lead to the temp dirs killed pulls
// left; a live pull's (locked) temp dir is never listed, and its record is
// kept while it is there; removal drops the records that lead nowhere.
func TestRecordedStalePulls(t *testing.T) {
	records := filepath.Join(t.TempDir(), "pulls")
	staleParent, liveParent, emptyParent := t.TempDir(), t.TempDir(), t.TempDir()
	stale := filepath.Join(staleParent, ".p"+pullTempMarker+"1")
	live := filepath.Join(liveParent, ".q"+pullTempMarker+"2")
	for _, d := range []string{stale, live, filepath.Join(staleParent, "kept"), filepath.Join(emptyParent, "kept")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	for _, p := range []string{staleParent, liveParent, emptyParent, staleParent} {
		if err := RecordPull(records, p); err != nil {
			t.Fatalf("RecordPull(%s): %v", p, err)
		}
	}
	if err := os.WriteFile(filepath.Join(records, "junk"), []byte("relative\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		var n []string
		entries, _ := os.ReadDir(records)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(records, e.Name()))
			n = append(n, strings.TrimSpace(string(b)))
		}
		slices.Sort(n)
		return n
	}
	all := []string{emptyParent, liveParent, staleParent, "relative"}
	slices.Sort(all)
	if got := names(); !slices.Equal(got, all) {
		t.Fatalf("records = %q; want one per parent and the junk: %q", got, all)
	}

	got, errs := RecordedStalePulls(records, false)
	if !slices.Equal(got, []string{stale}) || len(errs) != 0 {
		t.Fatalf("RecordedStalePulls(list) = %q, %v; want only %s", got, errs, stale)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("listing removed the stale dir: %v", err)
	}
	if got := names(); !slices.Equal(got, all) {
		t.Fatalf("listing changed the records: %q", got)
	}

	got, errs = RecordedStalePulls(records, true)
	if !slices.Equal(got, []string{stale}) || len(errs) != 0 {
		t.Fatalf("RecordedStalePulls(remove) = %q, %v; want only %s", got, errs, stale)
	}
	for _, d := range []string{live, filepath.Join(staleParent, "kept"), filepath.Join(emptyParent, "kept")} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("removal touched %s: %v", d, err)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale dir is still there: %v", err)
	}
	if got := names(); !slices.Equal(got, []string{liveParent}) {
		t.Errorf("records after removal = %q; want only the live pull's parent %s", got, liveParent)
	}

	if got, errs := RecordedStalePulls(filepath.Join(t.TempDir(), "none"), true); got != nil || errs != nil {
		t.Errorf("RecordedStalePulls(no records dir) = %q, %v; want nothing", got, errs)
	}
}

// TestRecordPullRefusesAFileAsRecordsDir: RecordPull reports when the
// records dir cannot be made.
func TestRecordPullRefusesAFileAsRecordsDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RecordPull(filepath.Join(file, "pulls"), "/srv"); err == nil {
		t.Error("RecordPull under a regular file succeeded")
	}
}
