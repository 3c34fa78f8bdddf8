package build_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/dplug/dplug/build"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/pack"
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
	res, err := build.Run(context.Background(), ctxDir, &build.OCILayout{Path: out}, e.opts(t)...)
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
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	testenv.PushImage(t, e.base.Image, host+"/base/busybox:latest")

	ctxDir := project(t, map[string]string{"Dockerfile": "FROM " + host + "/base/busybox\nRUN echo pushed > /pushed\n"})
	ref := host + "/plugins/test:1.0"
	var b build.Dest = &build.Registry{Ref: ref}
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
