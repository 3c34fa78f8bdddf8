package validate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// unreadableDiags validates a directory holding a config.json that cannot
// be opened (a dangling symlink: root can read anything else).
func unreadableDiags(t *testing.T) []Diagnostic {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	r, err := Files([]string{dir})
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	return r.Diagnostics
}

func TestFilesUnreadable(t *testing.T) {
	diags := unreadableDiags(t)
	if len(diags) != 1 || diags[0].Rule != "DP006" || diags[0].Line != 0 {
		t.Fatalf("diagnostics = %v, want one DP006", diags)
	}
}

func TestFilesWalk(t *testing.T) {
	dir := t.TempDir()
	good := cfg("")
	bad := cfg(`, "workdir": "rel"`)
	writeFile(t, filepath.Join(dir, "a", "config.json"), bad)
	writeFile(t, filepath.Join(dir, "a", "plugin-settings.json"), `{"Env": ["NOEQUALS"]}`)
	writeFile(t, filepath.Join(dir, "b", "config.json"), good)
	writeFile(t, filepath.Join(dir, "b", "notes.json"), "not json")            // not a config name: skipped
	writeFile(t, filepath.Join(dir, "b", "rootfs", "etc", "config.json"), "x") // inside a rootfs: skipped
	writeFile(t, filepath.Join(dir, ".git", "config.json"), "x")               // VCS: skipped
	writeFile(t, filepath.Join(dir, "node_modules", "m", "config.json"), "x")  // dependencies: skipped
	writeFile(t, filepath.Join(dir, "explicit.json"), `{"description": "d",}`) // named explicitly below

	r, err := Files([]string{dir, filepath.Join(dir, "explicit.json"), filepath.Join(dir, "b", "config.json")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Diagnostics {
		rel, _ := filepath.Rel(dir, d.File)
		got = append(got, rel+" "+d.Rule)
	}
	want := []string{"a/config.json DP303", "a/plugin-settings.json DP701", "explicit.json DP001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if r.Files != 4 {
		t.Errorf("Files = %d, want 4 (a/config.json, a/plugin-settings.json, b/config.json, explicit.json)", r.Files)
	}
	if r.Errors() != 3 || r.Warnings() != 0 || !r.Failed(false) {
		t.Errorf("Errors=%d Warnings=%d Failed=%v", r.Errors(), r.Warnings(), r.Failed(false))
	}
}

func TestFilesMissingArgument(t *testing.T) {
	dir := t.TempDir()
	if _, err := Files([]string{filepath.Join(dir, "nope.json")}); err == nil {
		t.Fatal("Files of a missing argument: want an error")
	}
	// A dangling symlink named explicitly is an unreadable argument too.
	link := filepath.Join(dir, "config.json")
	if err := os.Symlink(filepath.Join(dir, "missing"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Files([]string{link}); err == nil {
		t.Fatal("Files of a dangling symlink argument: want an error")
	}
}

func TestFilesTooLarge(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	writeFile(t, p, cfg(""))
	r, err := Files([]string{p}, WithMaxSize(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Diagnostics) != 1 || r.Diagnostics[0].Rule != "DP003" {
		t.Fatalf("diagnostics = %v, want DP003", r.Diagnostics)
	}
}

func TestReportFailed(t *testing.T) {
	warn := &Report{Diagnostics: []Diagnostic{{Severity: Warning}}}
	if warn.Failed(false) || !warn.Failed(true) {
		t.Errorf("warnings: Failed(false)=%v Failed(true)=%v, want false, true", warn.Failed(false), warn.Failed(true))
	}
	clean := &Report{}
	if clean.Failed(true) {
		t.Error("clean report failed under strict")
	}
}

func TestFilesManyParallelDeterministic(t *testing.T) {
	dir := t.TempDir()
	for i := range 200 {
		extra := ""
		if i%3 == 0 {
			extra = `, "network": {"type": "bridge"}`
		}
		writeFile(t, filepath.Join(dir, "p"+string(rune('a'+i%26)), "x"+itoa(i), "config.json"), cfg(extra))
	}
	first, err := Files([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := Files([]string{dir})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Fatalf("non-deterministic report (-first +again):\n%s", diff)
		}
	}
	if first.Files != 200 || first.Warnings() != 67 {
		t.Errorf("Files=%d Warnings=%d, want 200, 67", first.Files, first.Warnings())
	}
}

func itoa(i int) string {
	return string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}
