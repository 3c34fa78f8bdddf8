package scaffold

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInit(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, typ string
		opts           []Option
		wantName       string
		wantErr        string // "" for success
		wantInput      bool   // the error is an *InputError
	}{
		{name: "named after dir", dir: filepath.Join(base, "MyVol"), typ: "volume", wantName: "myvol"},
		{name: "WithName", dir: filepath.Join(base, "p"), typ: "authz", opts: []Option{WithName("corp-authz")}, wantName: "corp-authz"},
		{name: "not a directory", dir: file, typ: "volume", wantErr: "exists and is not a directory", wantInput: true},
		{name: "bad dir name", dir: filepath.Join(base, "no good"), typ: "volume", wantErr: "choose one with --name", wantInput: true},
		{name: "unknown type", dir: filepath.Join(base, "x"), typ: "csi", wantErr: `unknown plugin type "csi"`, wantInput: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Init(tc.dir, tc.typ, tc.opts...)
			if tc.wantErr != "" {
				var ie *InputError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.As(err, &ie) != tc.wantInput {
					t.Fatalf("Init = %v, want an error with %q (InputError %v)", err, tc.wantErr, tc.wantInput)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.wantName || p.Type != tc.typ || p.Dir != tc.dir || len(p.Files) == 0 {
				t.Errorf("Init = %+v, want name %q, type %q in %s with files", p, tc.wantName, tc.typ, tc.dir)
			}
		})
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if _, err := Init(dir, "volume"); err != nil {
		t.Fatal(err)
	}
	_, err := Init(dir, "volume")
	var ee *ExistsError
	if !errors.As(err, &ee) || !strings.HasPrefix(err.Error(), "creating plugin project: ") {
		t.Errorf("second Init = %v, want a wrapped *ExistsError", err)
	}
}

func TestWriteNext(t *testing.T) {
	var b bytes.Buffer
	p := &Project{Dir: "myvol", Type: "volume", Name: "myvol"}
	if err := p.WriteNext(&b); err != nil {
		t.Fatal(err)
	}
	want := `
Created a volume plugin "myvol" in myvol. Next:
  cd myvol
  dplug build -t myvol .
  dplug validate --strict config.json
  sudo dplug run myvol     # Ctrl-C stops it
  sudo dplug test myvol
`
	if b.String() != want {
		t.Errorf("WriteNext:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestProjectWrite(t *testing.T) {
	p := &Project{Dir: "d", Type: "log", Name: "n", Files: []string{"d/a", "d/b"}}
	for _, tc := range []struct {
		asJSON           bool
		wantOut, wantErr string
	}{
		{true, "{\n  \"dir\": \"d\",\n  \"type\": \"log\",\n  \"name\": \"n\",\n  \"files\": [\n    \"d/a\",\n    \"d/b\"\n  ]\n}\n", ""},
		{false, "d/a\nd/b\n", "\nCreated a log plugin \"n\" in d. Next:\n"},
	} {
		var out, errOut bytes.Buffer
		if err := p.Write(&out, &errOut, tc.asJSON); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.wantOut || !strings.HasPrefix(errOut.String(), tc.wantErr) || (tc.wantErr == "") != (errOut.Len() == 0) {
			t.Errorf("Write(json=%v): out %q, errOut %q; want %q, %q...", tc.asJSON, out.String(), errOut.String(), tc.wantOut, tc.wantErr)
		}
	}
}
