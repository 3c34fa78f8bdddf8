package testplugin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dplug/dplug/plugin"
)

// TestModeConfig: a mode is volplug's TESTPLUGIN_MODE on top of Config;
// no mode is Config itself.
func TestModeConfig(t *testing.T) {
	if diff := cmp.Diff(Config(), ModeConfig("")); diff != "" {
		t.Errorf("ModeConfig(\"\") is not Config() (-want +got):\n%s", diff)
	}
	want := Config()
	crash := "crash"
	want.Env = append(want.Env, plugin.Env{Name: "TESTPLUGIN_MODE", Value: &crash})
	if diff := cmp.Diff(want, ModeConfig("crash")); diff != "" {
		t.Errorf("ModeConfig(\"crash\") (-want +got):\n%s", diff)
	}
}

// TestTar: every kind of entry comes out as its tar header, in Write's
// order (sorted, links after their targets), and TarGz is Tar gzipped.
func TestTar(t *testing.T) {
	files := map[string]File{
		"./":       {Mode: fs.ModeDir | 0o755},
		"a":        {Body: "A"},
		"a-hard":   {Link: "z/target"},
		"bin/plug": Exec("#!/bin/sh\n"),
		"etc":      {Mode: fs.ModeDir | 0o700},
		"l":        {Symlink: "bin/plug"},
		"z/target": {Body: "T", Mode: 0o600},
	}
	type entry struct {
		Name, Linkname, Body string
		Type                 byte
		Mode                 int64
	}
	want := []entry{
		{Name: "./", Type: tar.TypeDir, Mode: 0o755},
		{Name: "a", Body: "A", Type: tar.TypeReg, Mode: 0o644},
		{Name: "bin/plug", Body: "#!/bin/sh\n", Type: tar.TypeReg, Mode: 0o755},
		{Name: "etc/", Type: tar.TypeDir, Mode: 0o700},
		{Name: "z/target", Body: "T", Type: tar.TypeReg, Mode: 0o600},
		{Name: "a-hard", Linkname: "z/target", Type: tar.TypeLink, Mode: 0o644},
		{Name: "l", Linkname: "bin/plug", Type: tar.TypeSymlink, Mode: 0o777},
	}
	read := func(r io.Reader) []entry {
		var got []entry
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, entry{hdr.Name, hdr.Linkname, string(body), hdr.Typeflag, hdr.Mode})
		}
	}
	if diff := cmp.Diff(want, read(bytes.NewReader(Tar(t, files)))); diff != "" {
		t.Errorf("Tar (-want +got):\n%s", diff)
	}
	zr, err := gzip.NewReader(bytes.NewReader(TarGz(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, read(zr)); diff != "" {
		t.Errorf("TarGz (-want +got):\n%s", diff)
	}
}
