package dest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/dest"
)

// plugin stages a plugin dir whose config.json says what.
func plugin(t *testing.T, parent, what string) string {
	t.Helper()
	dir, err := os.MkdirTemp(parent, "stage")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(what), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDirDeliver(t *testing.T) {
	tests := []struct {
		name    string
		before  func(t *testing.T, path string)
		wantErr bool
	}{
		{"new", func(*testing.T, string) {}, false},
		{"empty dir", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"old plugin replaced", func(t *testing.T, path string) {
			if err := os.Rename(plugin(t, filepath.Dir(path), "old"), path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"other files refused", func(t *testing.T, path string) {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "notes.txt"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			path := filepath.Join(parent, "out")
			tc.before(t, path)
			d := &dest.Dir{Path: path}
			if got := d.StagingParent(); got != parent {
				t.Errorf("StagingParent = %q, want %q", got, parent)
			}
			out, err := d.Deliver(context.Background(), plugin(t, parent, "new"))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Deliver = %q, want an error", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out != path {
				t.Errorf("Deliver = %q, want %q", out, path)
			}
			got, err := os.ReadFile(filepath.Join(path, "config.json"))
			if err != nil || string(got) != "new" {
				t.Errorf("config.json = %q, %v; want the new plugin's", got, err)
			}
		})
	}
}

// fake records deliveries.
type fake struct {
	name string
	log  *[]string
	err  error
}

func (f *fake) String() string { return f.name }
func (f *fake) Deliver(_ context.Context, dir string) (string, error) {
	*f.log = append(*f.log, f.name)
	return f.name + " done", f.err
}

func TestAll(t *testing.T) {
	var log []string
	parent := t.TempDir()
	dir := &dest.Dir{Path: filepath.Join(parent, "out")}
	d, err := dest.All(dir, &fake{name: "store", log: &log}, &fake{name: "registry", log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := d.(dest.Stager); !ok || s.StagingParent() != parent {
		t.Errorf("All is not staged beside its Dir")
	}
	out, err := d.Deliver(context.Background(), plugin(t, parent, "x"))
	if err != nil {
		t.Fatal(err)
	}
	// The Dir moves the staged plugin: it goes last.
	if diff := cmp.Diff([]string{"store", "registry"}, log); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if want := "store done\nregistry done\n" + dir.Path; out != want {
		t.Errorf("Deliver = %q, want %q", out, want)
	}
	if _, err := dest.All(&dest.Dir{Path: "a"}, &dest.Dir{Path: "b"}); err == nil {
		t.Error("two Dirs: want an error")
	}
	if _, err := dest.All(); err == nil {
		t.Error("no destination: want an error")
	}
}

// steps records what a Progress was told.
type steps []string

func (s *steps) Start(name string) func(error) {
	*s = append(*s, "start "+name)
	return func(err error) {
		if err != nil {
			*s = append(*s, "fail "+name)
		} else {
			*s = append(*s, "done "+name)
		}
	}
}

type named struct{ fake }

func (n *named) Step() string { return "install as x" }

func TestWithProgress(t *testing.T) {
	var log []string
	var p steps
	boom := errors.New("boom")
	for _, d := range []dest.Dest{
		&fake{name: "registry r", log: &log},
		&named{fake{name: "store", log: &log, err: boom}},
	} {
		_, _ = dest.WithProgress(d, &p).Deliver(context.Background(), "dir")
	}
	want := steps{"start deliver to registry r", "done deliver to registry r", "start install as x", "fail install as x"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	d := &fake{name: "plain", log: &log}
	if got := dest.WithProgress(d, nil); got != dest.Dest(d) {
		t.Errorf("WithProgress(d, nil) = %v, want d itself", got)
	}
	parent := t.TempDir()
	if s, ok := dest.WithProgress(&dest.Dir{Path: filepath.Join(parent, "o")}, &p).(dest.Stager); !ok || s.StagingParent() != parent {
		t.Error("WithProgress loses the Dir's staging parent")
	}
}
