package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSettingsCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "plugin", "config.json"), `{"description":"x"}`)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // no config.json here
	for _, tc := range []struct {
		name    string
		s       Settings
		paths   []string
		files   int
		wantErr string
	}{
		{name: "dir", paths: []string{"plugin"}, files: 1},
		{name: "consumer with settings", s: Settings{Consumer: true, Set: []string{"A=1"}}, paths: []string{"plugin"}, files: 1},
		{name: "bad kind", s: Settings{Kind: "other"}, paths: []string{"plugin"}, wantErr: `unknown --kind "other"`},
		{name: "no paths, no config.json", wantErr: "give the FILE or DIR to check"},
		{name: "missing path", paths: []string{"nope"}, wantErr: "nope"},
		{name: "no plugin files", paths: []string{"empty"}, wantErr: "no config.json or plugin-settings.json found in empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.s.Check(tc.paths)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Files != tc.files {
				t.Errorf("Files = %d, want %d", r.Files, tc.files)
			}
		})
	}
}

func TestReportSummary(t *testing.T) {
	r := &Report{Files: 2, Diagnostics: []Diagnostic{{Severity: Error}, {Severity: Warning}, {Severity: Warning}}}
	if got, want := r.Summary(), "validated 2 file(s): 1 error(s), 2 warning(s)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}
