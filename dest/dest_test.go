package dest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testplugin"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/source"
	"github.com/dplug/dplug/store"
)

// writePlugin writes a plugin dir in a new temp dir under parent
// (t.TempDir() when "") whose config and rootfs/etc/what say what.
func writePlugin(t *testing.T, parent, what string) string {
	t.Helper()
	if parent == "" {
		parent = t.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "stage")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testplugin.Minimal()
	cfg.Description = what
	if err := testplugin.WriteTo(dir, &cfg, map[string]testplugin.File{"etc/what": {Body: what}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// staged is a plugin staged by a build under parent.
func staged(t *testing.T, parent, what string) *source.Source {
	t.Helper()
	src, err := dest.Staged(context.Background(), writePlugin(t, parent, what), "")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// open resolves arg like a command does, with the store at root.
func open(t *testing.T, arg, root string) *source.Source {
	t.Helper()
	src, err := source.Open(context.Background(), arg, source.WithStore(func() (*store.Store, error) { return store.Open(root) }),
		source.WithPack(pack.WithInsecure(true)))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// what reads the marker file of the plugin dir at dir.
func what(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "rootfs", "etc", "what"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newRegistry(t *testing.T) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
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
			if err := os.Rename(writePlugin(t, filepath.Dir(path), "old"), path); err != nil {
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
			out, err := d.Deliver(context.Background(), staged(t, parent, "new"))
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
			if got := what(t, path); got != "new" {
				t.Errorf("delivered %q, want the new plugin", got)
			}
		})
	}
}

// TestDeliverSources delivers each kind of source to each destination
// that takes it: a registry and a store for real, in temp dirs.
func TestDeliverSources(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	host := newRegistry(t)
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	// One plugin in every form a command meets.
	dir := writePlugin(t, "", "v1")
	layout := filepath.Join(t.TempDir(), "layout")
	if _, err := (&dest.OCILayout{Path: layout}).Deliver(ctx, open(t, dir, root)); err != nil {
		t.Fatal(err)
	}
	ref := host + "/me/plug:1"
	if _, err := (&dest.Registry{Ref: ref, Options: []pack.Option{pack.WithInsecure(true)}}).Deliver(ctx, open(t, dir, root)); err != nil {
		t.Fatal(err)
	}
	if _, err := (&dest.Store{Root: root, Name: "me/installed:1"}).Deliver(ctx, open(t, dir, root)); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{"dir": dir, "layout": layout, "registry": ref, "installed": "me/installed:1"}

	tests := []struct {
		from string
		to   func(t *testing.T, id string) (dest.Dest, func(t *testing.T, out string))
	}{
		{"dir", toRegistry(host)},
		{"layout", toRegistry(host)},
		{"installed", toRegistry(host)},
		{"dir", toLayout},
		{"installed", toLayout},
		{"dir", toStore(root)},
		{"layout", toStore(root)},
		{"registry", toStore(root)},
		{"registry", toDir},
		{"layout", toDir},
		{"installed", toDir},
	}
	for i, tc := range tests {
		d, check := tc.to(t, fmt.Sprint(i))
		t.Run(tc.from+" to "+strings.Fields(d.String())[0], func(t *testing.T) {
			out, err := d.Deliver(ctx, open(t, sources[tc.from], root))
			if err != nil {
				t.Fatal(err)
			}
			check(t, out)
		})
	}
	// A layout is pushed unchanged: the digest it has there.
	p, err := pack.ReadLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (&dest.Registry{Ref: host + "/me/copy:1"}).Deliver(ctx, open(t, layout, root))
	if err != nil || out != host+"/me/copy:1@"+p.Digest() {
		t.Errorf("pushing the layout = %q, %v; want its digest %s", out, err, p.Digest())
	}
	if _, err := (&dest.OCILayout{Path: t.TempDir()}).Deliver(ctx, open(t, ref, root)); err == nil {
		t.Error("a registry artifact packed again: want an error")
	}
	if _, err := s.Get("me/installed:1"); err != nil {
		t.Error(err)
	}
	// Exporting onto other files is the caller's mistake, found first.
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&dest.Dir{Path: full}).Deliver(ctx, open(t, "me/installed:1", root))
	want := "exporting me/installed:1: " + full + " is not empty: give a new or empty directory"
	if ie := (*dest.InputError)(nil); !errors.As(err, &ie) || err.Error() != want {
		t.Errorf("exporting into a full dir = %v; want an InputError %q", err, want)
	}
}

func toRegistry(host string) func(t *testing.T, id string) (dest.Dest, func(*testing.T, string)) {
	return func(t *testing.T, id string) (dest.Dest, func(*testing.T, string)) {
		ref := host + "/me/p" + id + ":1"
		return &dest.Registry{Ref: ref}, func(t *testing.T, out string) {
			src := open(t, ref, t.TempDir())
			if out != ref+"@"+src.Artifact.Digest() {
				t.Errorf("Deliver = %q, want %s@%s", out, ref, src.Artifact.Digest())
			}
			if src.Config.Description != "v1" {
				t.Errorf("pushed %q, want v1", src.Config.Description)
			}
		}
	}
}

func toLayout(t *testing.T, _ string) (dest.Dest, func(*testing.T, string)) {
	path := filepath.Join(t.TempDir(), "new", "l")
	return &dest.OCILayout{Path: path}, func(t *testing.T, out string) {
		p, err := pack.ReadLayout(path)
		if err != nil {
			t.Fatal(err)
		}
		if out != path+"@"+p.Digest() {
			t.Errorf("Deliver = %q, want %s@%s", out, path, p.Digest())
		}
	}
}

func toStore(root string) func(t *testing.T, id string) (dest.Dest, func(*testing.T, string)) {
	return func(t *testing.T, id string) (dest.Dest, func(*testing.T, string)) {
		var got *store.Plugin
		d := &dest.Store{Root: root, Install: &store.InstallOptions{Alias: "me/p" + id, Disabled: true},
			Installed: func(p *store.Plugin) { got = p }}
		return d, func(t *testing.T, out string) {
			if got == nil || out != got.FullName() {
				t.Fatalf("Deliver = %q; Installed told %v", out, got)
			}
			if w := what(t, got.Dir); w != "v1" {
				t.Errorf("installed %q, want v1", w)
			}
		}
	}
}

func toDir(t *testing.T, _ string) (dest.Dest, func(*testing.T, string)) {
	path := filepath.Join(t.TempDir(), "out")
	return &dest.Dir{Path: path}, func(t *testing.T, out string) {
		if out != path {
			t.Errorf("Deliver = %q, want %q", out, path)
		}
		if w := what(t, path); w != "v1" {
			t.Errorf("wrote %q, want v1", w)
		}
	}
}

func TestStoreReplace(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := &dest.Store{Root: root, Name: "me/dev:latest"}
	for _, v := range []string{"v1", "v2"} {
		if out, err := d.Deliver(ctx, staged(t, "", v)); err != nil || out != "me/dev:latest" {
			t.Fatalf("Deliver %s = %q, %v", v, out, err)
		}
	}
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Get("me/dev")
	if err != nil || p.Enabled || what(t, p.Dir) != "v2" {
		t.Fatalf("after two builds: %+v, %v; want v2, disabled", p, err)
	}
	if _, err := s.Enable("me/dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deliver(ctx, staged(t, "", "v3")); err == nil || !strings.Contains(err.Error(), "dplug disable me/dev:latest") {
		t.Errorf("replacing an enabled plugin: %v; want an error saying to disable it", err)
	}
	in := &dest.Store{Root: root, Install: &store.InstallOptions{Name: "me/dev"}}
	if _, err := in.Deliver(ctx, staged(t, "", "v4")); !errors.Is(err, store.ErrExists) || !strings.Contains(err.Error(), "dplug rm me/dev:latest") {
		t.Errorf("installing over a name: %v; want ErrExists saying what to do", err)
	}
}

func TestOCILayoutPlatform(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l")
	src, err := dest.Staged(ctx, writePlugin(t, "", "arm"), "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&dest.OCILayout{Path: path}).Deliver(ctx, src); err != nil {
		t.Fatal(err)
	}
	if p, err := pack.LayoutPlatform(path); err != nil || p != "linux/arm64" {
		t.Errorf("layout records %q, %v; want linux/arm64", p, err)
	}
}

// fake records deliveries.
type fake struct {
	name string
	log  *[]string
	err  error
}

func (f *fake) String() string { return f.name }

func (f *fake) Deliver(context.Context, *source.Source) (string, error) {
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
	out, err := d.Deliver(context.Background(), staged(t, parent, "x"))
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

func (s *steps) Start(name string) dest.Step {
	*s = append(*s, "start "+name)
	return &step{s, name, map[string]bool{}}
}

type step struct {
	s      *steps
	name   string
	phases map[string]bool
}

func (st *step) Update(phase string, done, total int64) {
	if !st.phases[phase] {
		st.phases[phase] = true
		*st.s = append(*st.s, st.name+": "+phase)
	}
}

func (st *step) Done(_ string, err error) {
	if err != nil {
		*st.s = append(*st.s, "fail "+st.name)
	} else {
		*st.s = append(*st.s, "done "+st.name)
	}
}

// TestPackProgress checks that the bytes of every step reach the function
// as pack's progress, and that a real delivery reports into it.
func TestPackProgress(t *testing.T) {
	var got []pack.Progress
	p := dest.PackProgress(func(u pack.Progress) { got = append(got, u) })
	st := p.Start("pack and push r")
	st.Update("pack", 1, 4)
	st.Update("push", 4, 0)
	st.Done("r@sha256:ab", nil)
	p.Start("pack to OCI layout l").Done("", errors.New("boom"))
	want := []pack.Progress{{Phase: "pack", Complete: 1, Total: 4}, {Phase: "push", Complete: 4}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}

	got = nil
	parent := t.TempDir()
	d := dest.WithProgress(&dest.OCILayout{Path: filepath.Join(parent, "layout")}, p)
	if _, err := d.Deliver(context.Background(), staged(t, parent, "x")); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[len(got)-1].Phase != "packing" {
		t.Errorf("progress of an OCI layout delivery = %+v, want packing", got)
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
		_, _ = dest.WithProgress(d, &p).Deliver(context.Background(), &source.Source{})
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
	if _, ok := dest.WithProgress(&dest.Registry{Ref: "r"}, &p).(dest.MultiDest); !ok {
		t.Error("WithProgress loses the registry's platforms")
	}

	// Each leaf of an All is a step of its own, with pack's bytes in it;
	// a Dir's rename is none.
	p = nil
	layout := filepath.Join(parent, "layout")
	all, err := dest.All(&dest.Dir{Path: filepath.Join(parent, "o")}, &dest.OCILayout{Path: layout})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dest.WithProgress(all, &p).Deliver(context.Background(), staged(t, parent, "x")); err != nil {
		t.Fatal(err)
	}
	name := "pack to OCI layout " + layout
	want = steps{"start " + name, name + ": packing", "done " + name}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

func TestOutputs(t *testing.T) {
	tests := []struct {
		out     dest.Outputs
		want    string // the Dest's String, or the error
		wantErr bool
	}{
		{dest.Outputs{Outputs: []string{"dir=out"}}, "directory out", false},
		{dest.Outputs{Outputs: []string{"json", "dir=out", "text"}}, "directory out", false},
		{dest.Outputs{Outputs: []string{"type=oci,dest=l"}, Push: "127.0.0.1:5000/p:1"}, "OCI layout l, registry 127.0.0.1:5000/p:1", false},
		{dest.Outputs{Outputs: []string{"dir=out"}, Tags: []string{"me/p:dev"}}, "plugin store me/p:dev, directory out", false},
		{dest.Outputs{Tags: []string{"me/p"}, Load: true}, "Docker Engine plugin me/p", false},
		{dest.Outputs{}, "no destination: give -t NAME, --output dir=PATH, --output oci=PATH or --push REF", true},
		{dest.Outputs{Load: true}, "--load needs -t NAME: the plugin's name in the Docker Engine", true},
		{dest.Outputs{Tags: []string{"a", "b"}}, "one -t NAME per build", true},
		{dest.Outputs{Tags: []string{"a"}, Load: true, Platforms: 2}, "--load takes one --platform: a Docker Engine runs plugins of its own platform", true},
		{dest.Outputs{Outputs: []string{"tar=x"}}, `invalid --output "tar=x": unknown key "tar"`, true},
		{dest.Outputs{Outputs: []string{"type=tar,dest=x"}}, `invalid --output "type=tar,dest=x": type must be dir (local) or oci`, true},
		{dest.Outputs{Outputs: []string{"dir="}}, `invalid --output "dir=": no path`, true},
		{dest.Outputs{Outputs: []string{"dir=a", "dir=b"}}, "one directory output per build", true},
	}
	if f := (dest.Outputs{Outputs: []string{"json", "dir=o", "text"}}).Format(); f != "text" {
		t.Errorf("Format = %q, want the last one, text", f)
	}
	for _, tc := range tests {
		d, err := tc.out.Dest()
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = d.String()
		}
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("%+v: got %q (err %v), want %q", tc.out, got, err, tc.want)
		}
	}
}
