package build_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/dest"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/pack"
	"github.com/dplug/dplug/store"
)

// rootfsFiles reads a packed plugin's layers into path → content (regular
// files only).
func rootfsFiles(t *testing.T, p *pack.Plugin) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := p.Layers(context.Background(), func(r io.Reader) error {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if h.Typeflag == tar.TypeReg {
				data, err := io.ReadAll(tr)
				if err != nil {
					return err
				}
				files[strings.TrimPrefix(h.Name, "./")] = string(data)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBuildOCILayout(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN echo oci > /made-by-run\n"})
	out := filepath.Join(t.TempDir(), "layout")
	res, err := build.Run(context.Background(), ctxDir, &dest.OCILayout{Path: out}, e.opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Output, out+"@sha256:") {
		t.Errorf("Output = %q, want %s@sha256:...", res.Output, out)
	}
	p, err := pack.ReadLayout(out)
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest() != strings.TrimPrefix(res.Output, out+"@") {
		t.Errorf("layout digest %s, build said %s", p.Digest(), res.Output)
	}
	cfg, err := p.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Description != "dplug test volume plugin" {
		t.Errorf("config description %q", cfg.Description)
	}
	files := rootfsFiles(t, p)
	if files["made-by-run"] != "oci\n" {
		t.Errorf("made-by-run = %q", files["made-by-run"])
	}
	if _, ok := files["bin/busybox"]; !ok {
		t.Error("bin/busybox from the base image is missing")
	}
	assertNoStaging(t, filepath.Dir(out))
}

// TestBuildPushFromRegistry takes its base image from a loopback registry
// (FROM 127.0.0.1:PORT/...) and pushes the plugin to it.
func TestBuildPushFromRegistry(t *testing.T) {
	e := setup(t)
	host := testenv.StartRegistry(t).Host
	testenv.PushImage(t, e.base.Image, host+"/base/busybox:latest")

	ctxDir := project(t, map[string]string{"Dockerfile": "FROM " + host + "/base/busybox\nRUN echo pushed > /pushed\n"})
	ref := host + "/plugins/test:1.0"
	var b dest.Dest = &dest.Registry{Ref: ref}
	res, err := build.Run(context.Background(), ctxDir, b, e.opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Output, ref+"@sha256:") {
		t.Errorf("Output = %q, want %s@sha256:...", res.Output, ref)
	}
	p, err := pack.Fetch(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := rootfsFiles(t, p)["pushed"]; got != "pushed\n" {
		t.Errorf("pushed = %q", got)
	}
}

func TestBuildStore(t *testing.T) {
	e := setup(t)
	root := t.TempDir()
	to := &dest.Store{Root: root, Name: "me/built:dev"}
	for _, msg := range []string{"one", "two"} {
		ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN echo " + msg + " > /msg\n"})
		res, err := build.Run(context.Background(), ctxDir, to, e.opts(t)...)
		if err != nil {
			t.Fatalf("build %s: %v", msg, err)
		}
		if res.Output != "me/built:dev" {
			t.Errorf("Output = %q", res.Output)
		}
		s, err := store.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Get("me/built:dev")
		if err != nil {
			t.Fatal(err)
		}
		if p.Enabled {
			t.Error("built plugin is enabled, want disabled like docker plugin create")
		}
		if got := readFile(t, filepath.Join(p.Rootfs(), "msg")); got != msg+"\n" {
			t.Errorf("msg = %q, want %q", got, msg)
		}
		if ps, _ := s.List(); len(ps) != 1 {
			t.Errorf("store holds %d plugins, want 1", len(ps))
		}
	}
	// An enabled plugin is not replaced.
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enable("me/built:dev"); err != nil {
		t.Fatal(err)
	}
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\n"})
	if _, err := build.Run(context.Background(), ctxDir, to, e.opts(t)...); err == nil || !strings.Contains(err.Error(), "dplug disable") {
		t.Errorf("rebuilding an enabled plugin: %v, want an error saying to disable it", err)
	}
}

// TestBuildAll delivers one build to the store, an OCI layout and a
// directory at once.
func TestBuildAll(t *testing.T) {
	e := setup(t)
	ctxDir := project(t, map[string]string{"Dockerfile": "FROM base\nRUN echo all > /all\n"})
	root, tmp := t.TempDir(), t.TempDir()
	dir, layout := filepath.Join(tmp, "dir"), filepath.Join(tmp, "layout")
	to, err := dest.All(&dest.Dir{Path: dir}, &dest.Store{Root: root, Name: "all"}, &dest.OCILayout{Path: layout})
	if err != nil {
		t.Fatal(err)
	}
	res, err := build.Run(context.Background(), ctxDir, to, e.opts(t)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(res.Output, "\n")
	if len(lines) != 3 || lines[0] != "all:latest" || !strings.HasPrefix(lines[1], layout+"@sha256:") || lines[2] != dir {
		t.Errorf("Output = %q", res.Output)
	}
	if got := readFile(t, filepath.Join(dir, "rootfs/all")); got != "all\n" {
		t.Errorf("dir: all = %q", got)
	}
	s, err := store.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Get("all")
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(p.Rootfs(), "all")); got != "all\n" {
		t.Errorf("store: all = %q", got)
	}
	lp, err := pack.ReadLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	if got := rootfsFiles(t, lp)["all"]; got != "all\n" {
		t.Errorf("layout: all = %q", got)
	}
	if _, err := dest.All(&dest.Dir{Path: "a"}, &dest.Dir{Path: "b"}); err == nil {
		t.Error("All took two directories")
	}
}
