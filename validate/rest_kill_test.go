package validate

// Kill tests for mutants of api.go, bytes.go and files.go that the validate
// tests left uncovered in `make mutate` (issue 13).

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dplug/dplug/internal/testenv"
)

// TestAudienceString: each audience prints as the CLI spells it. Kills
// api.go:108's `a == Consumer` -> `!=`.
func TestAudienceString(t *testing.T) {
	if got := Author.String(); got != "author" {
		t.Errorf("Author.String() = %q, want author", got)
	}
	if got := Consumer.String(); got != "consumer" {
		t.Errorf("Consumer.String() = %q, want consumer", got)
	}
}

// TestNotPluginConfigMessages: an empty object and an object with no plugin
// field are told apart. Kills bytes.go:141's `len(root.members) == 0` -> `!=`.
func TestNotPluginConfigMessages(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{`{}`, "the document is an empty object"},
		{`{"colour": "blue"}`, "the document has no plugin config field"},
	} {
		var msgs []string
		for _, d := range Bytes(ConfigFile, []byte(tt.doc)) {
			if d.Rule == "DP007" {
				msgs = append(msgs, d.Message)
			}
		}
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tt.want) {
			t.Errorf("%s: DP007 messages %q, want one starting %q", tt.doc, msgs, tt.want)
		}
	}
}

// TestModeName: every kind of non-regular file is named for what it is.
// Kills files.go's `m&… != 0` -> `== 0` on lines 212 to 220 (only the FIFO
// case had a test).
func TestModeName(t *testing.T) {
	for _, tt := range []struct {
		mode fs.FileMode
		want string
	}{
		{fs.ModeNamedPipe, "a named pipe (FIFO)"},
		{fs.ModeSocket, "a socket"},
		{fs.ModeDevice | fs.ModeCharDevice, "a character device"},
		{fs.ModeDevice, "a block device"},
		{fs.ModeDir, "a directory"},
		{fs.ModeSymlink, "a symbolic link"},
		{fs.ModeIrregular, "not a regular file (?---------)"},
	} {
		if got := modeName(tt.mode); got != tt.want {
			t.Errorf("modeName(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

// TestFilesUnlistableDirs: a directory argument that cannot be listed is a
// usage error (Files' error), while an unlistable directory inside it is a
// DP006 finding and the walk goes on. It runs as nobody, whom mode 0300
// stops from listing. Kills files.go:59's `path == p` -> `!=`.
func TestFilesUnlistableDirs(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	top := filepath.Join(t.TempDir(), "top")
	writeFile(t, filepath.Join(top, "sub", "config.json"), "{}")
	writeFile(t, filepath.Join(top, "ok", "config.json"), cfg(""))
	sub := filepath.Join(top, "sub")
	if err := os.Chmod(sub, 0o300); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(sub, 0o755) })

	r, err := Files([]string{top})
	if err != nil {
		t.Fatalf("Files(top) error = %v; an unlistable subdirectory is a finding, not an error", err)
	}
	if len(r.Diagnostics) != 1 || r.Diagnostics[0].Rule != "DP006" || r.Diagnostics[0].File != sub {
		t.Errorf("Files(top) diagnostics = %v; want one DP006 for %s", r.Diagnostics, sub)
	}
	if r.Files != 1 {
		t.Errorf("Files(top) checked %d files, want 1 (ok/config.json)", r.Files)
	}

	r, err = Files([]string{sub})
	if err == nil || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "reading "+sub) {
		t.Errorf("Files(sub) error = %v; want reading %s: permission denied", err, sub)
	}
	if r != nil && len(r.Diagnostics) != 0 {
		t.Errorf("Files(sub) diagnostics = %v; want none, the error says it", r.Diagnostics)
	}
}

// TestParseJSONEdgeBytes: the scanner decodes what encoding/json decodes at
// the edges of its byte classes: numbers starting with 9, \u escapes with
// 9, a, f, A and F, DEL and an invalid UTF-8 byte in a string. Kills
// scan.go's boundary and negation mutants on lines 112, 261, 284 to 289.
func TestParseJSONEdgeBytes(t *testing.T) {
	for _, doc := range []string{
		`9`, `90`, `-9`,
		`"\u0039\u00aF\u00Af\u00fA\u00Fa"`, `"\u0a0A\u0f0F"`, `"\u0000\u0009\u000a\u000f"`,
		"\"del \x7f\"", "\"bad \x80 byte\"", "\"two \xc3\xa9 bytes\"",
	} {
		var want any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatalf("encoding/json refuses %q: %v", doc, err)
		}
		n, serr := parseJSON([]byte(doc), 0)
		if serr != nil {
			t.Errorf("parseJSON(%q): %v; encoding/json decodes it as %q", doc, serr, want)
			continue
		}
		got := n.str
		if s, ok := want.(string); ok {
			if n.kind != kString || got != s {
				t.Errorf("parseJSON(%q) = kind %d %q, want the string %q", doc, n.kind, got, s)
			}
		} else if n.kind != kNumber || got != doc {
			t.Errorf("parseJSON(%q) = kind %d %q, want the number %s", doc, n.kind, got, doc)
		}
	}
}

// TestHexEscapeErrorOffset: a bad digit in a \u escape is reported at its
// own offset and quoted. Kills scan.go:291's `at+i` -> `at-i` (twice).
func TestHexEscapeErrorOffset(t *testing.T) {
	_, serr := parseJSON([]byte(`"\u00G0"`), 0)
	if serr == nil || serr.off != 5 || !strings.Contains(serr.msg, "'G'") {
		t.Errorf(`parseJSON("\u00G0") error = %v; want one at offset 5 quoting 'G'`, serr)
	}
}
