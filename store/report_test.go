package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dplug/dplug/internal/testenv"
)

// TestReportCounts: Clean is true only for an empty report, each finding
// alone makes it false, and Problems counts only what stays wrong until
// fixed (orphans, missing dirs, stale settings, a damaged inventory), one
// per item.
func TestReportCounts(t *testing.T) {
	one, two := []string{"a"}, []string{"a", "b"}
	for _, tc := range []struct {
		name     string
		r        Report
		clean    bool
		problems int
	}{
		{"empty", Report{}, true, 0},
		{"removed leftovers", Report{Removed: two}, false, 0},
		{"read-only leftovers", Report{Leftovers: two}, false, 0},
		{"orphans", Report{Orphans: two}, false, 2},
		{"missing", Report{Missing: two}, false, 2},
		{"resynced", Report{Resynced: two}, false, 2},
		{"moved aside", Report{MovedAside: []Move{{From: "a", To: "b"}}}, false, 0},
		{"damaged", Report{Damaged: "bad json"}, false, 1},
		{"all", Report{Orphans: two, Missing: []string{"m"}, Resynced: two, Damaged: "x"}, false, 6},
		// One of each of two kinds: a count that subtracted one from the
		// other would call the store clean.
		{"removed and read-only", Report{Removed: one, Leftovers: one}, false, 0},
		{"read-only and orphans", Report{Leftovers: one, Orphans: one}, false, 1},
		{"orphans and missing", Report{Orphans: one, Missing: one}, false, 2},
		{"missing and resynced", Report{Missing: one, Resynced: one}, false, 2},
		{"resynced and moved", Report{Resynced: one, MovedAside: []Move{{From: "a", To: "b"}}}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Clean(); got != tc.clean {
				t.Errorf("Clean() = %v, want %v", got, tc.clean)
			}
			if got := tc.r.Problems(); got != tc.problems {
				t.Errorf("Problems() = %d, want %d", got, tc.problems)
			}
		})
	}
}

// TestReportWriteText: each finding is one line that says whether doctor
// repaired it (fix) or only found it, and a damaged inventory lists the
// plugins recovered from their dirs with where their name came from.
func TestReportWriteText(t *testing.T) {
	id := strings.Repeat("ab", 32)
	r := Report{
		Removed:   []string{"tmp/x"},
		Leftovers: []string{"tmp/y"},
		Damaged:   "unexpected end of JSON input",
		Recovered: []Recovered{
			{ID: id, Name: "vol:latest", Enabled: true, From: "plugins.json.bak"},
			{ID: id, Name: "abababababab:latest", From: "derived from the ID", Note: "settings from the backup"},
		},
		Deleted:    []string{"d1"},
		MovedAside: []Move{{From: "o1", To: "lost+found/o1", Reason: "orphan"}},
		Missing:    []string{"m1"},
		Resynced:   []string{"s1"},
	}
	for _, tc := range []struct {
		fix  bool
		want string
	}{
		{false, `removed leftover tmp/x
found leftover tmp/y (store is read-only: not removed)
damaged inventory /S/plugins.json: unexpected end of JSON input
found plugin vol:latest (abababababab, enabled; name and state from plugins.json.bak)
found plugin abababababab:latest (abababababab, disabled; not in plugins.json.bak: name derived from the ID; settings from the backup)
found orphan dir d1 (its plugin was removed by an interrupted command)
found o1 (orphan): --fix moves it to lost+found/o1
found inventory entry with no dir: m1
found stale settings file s1
`},
		{true, `removed leftover tmp/x
found leftover tmp/y (store is read-only: not removed)
damaged inventory /S/plugins.json: unexpected end of JSON input
recovered plugin vol:latest (abababababab, enabled; name and state from plugins.json.bak)
recovered plugin abababababab:latest (abababababab, disabled; not in plugins.json.bak: name derived from the ID; settings from the backup)
deleted orphan dir d1 (its plugin was removed by an interrupted command)
moved o1 to lost+found/o1 (orphan)
removed inventory entry with no dir: m1
rewrote stale settings file s1
`},
	} {
		var b strings.Builder
		r.WriteText(&b, "/S", tc.fix)
		if b.String() != tc.want {
			t.Errorf("fix=%v:\n%s\nwant:\n%s", tc.fix, b.String(), tc.want)
		}
	}
	// Recovered plugins are listed only for a damaged inventory.
	var b strings.Builder
	(&Report{Recovered: r.Recovered}).WriteText(&b, "/S", true)
	if b.Len() != 0 {
		t.Errorf("recovered plugins listed for an undamaged inventory:\n%s", b.String())
	}
}

// TestDefaultRoot: root's store is /var/lib/dplug; other users' is under
// XDG_DATA_HOME, else ~/.local/share (as root in CI this runs as nobody).
func TestDefaultRoot(t *testing.T) {
	if got := DefaultRoot(); testenv.IsRoot() && got != "/var/lib/dplug" {
		t.Errorf("as root: DefaultRoot() = %q, want /var/lib/dplug", got)
	}
	if testenv.RunAsNobody(t) {
		return
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	if got := DefaultRoot(); got != "/data/dplug" {
		t.Errorf("XDG_DATA_HOME=/data: DefaultRoot() = %q, want /data/dplug", got)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if got, want := DefaultRoot(), filepath.Join("/home/u", ".local", "share", "dplug"); got != want {
		t.Errorf("HOME=/home/u: DefaultRoot() = %q, want %q", got, want)
	}
}

// TestLostFoundNameFree: a dir moved aside never lands on one already in
// lost+found: base, then base-1, base-2, ... in order.
func TestLostFoundNameFree(t *testing.T) {
	s, _ := openStore(t)
	lf := filepath.Join(s.dir, lostFoundDir)
	for _, want := range []string{"x", "x-1", "x-2"} {
		var got string
		var err error
		done := make(chan struct{})
		go func() { defer close(done); got, err = s.lostFoundName("x") }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("lostFoundName(x) has not returned in a minute with %s taken", want)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got != filepath.Join(lf, want) {
			t.Fatalf("lostFoundName(x) = %q, want %q", got, filepath.Join(lf, want))
		}
		if err := os.Mkdir(got, 0o700); err != nil {
			t.Fatal(err)
		}
	}
}
