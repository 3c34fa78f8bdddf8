package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
)

// ent is one hand-built tar entry.
type ent struct {
	name, link, body string
	typ              byte
	mode             int64
}

func file(name, body string) ent { return ent{name: name, body: body, typ: tar.TypeReg, mode: 0o644} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{name: name, link: to, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, to string) ent {
	return ent{name: name, link: to, typ: tar.TypeLink, mode: 0o644}
}

func mktar(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode,
			Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if e.typ == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 3
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sandbox returns dst inside a parent whose only allowed child is dst, and a
// check that nothing else appeared in the parent.
func sandbox(t *testing.T) (string, func()) {
	t.Helper()
	parent := t.TempDir()
	dst := filepath.Join(parent, "dst")
	t.Cleanup(func() { makeWritable(dst) })
	return dst, func() {
		t.Helper()
		ents, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Name() != "dst" {
				t.Errorf("extraction wrote outside dst: %s", e.Name())
			}
		}
	}
}

// tree lists dst as "path type[ -> target][: content]" lines.
func tree(t *testing.T, dst string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		if rel == "." {
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out = append(out, rel+" -> "+l)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			b, _ := os.ReadFile(p)
			out = append(out, rel+": "+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtractRefuses(t *testing.T) {
	tests := []struct {
		name    string
		layers  [][]ent
		opts    []Option
		wantErr string
		want    error
	}{
		{name: "absolute path", layers: [][]ent{{file("/etc/evil", "x")}}, wantErr: `archive entry "/etc/evil": absolute path`, want: ErrUnsafe},
		{name: "dotdot", layers: [][]ent{{file("../evil", "x")}}, wantErr: `archive entry "../evil": path contains ".."`, want: ErrUnsafe},
		{name: "dotdot inside", layers: [][]ent{{file("a/../../evil", "x")}}, wantErr: `path contains ".."`, want: ErrUnsafe},
		{name: "symlink escape relative", layers: [][]ent{{symlink("a/up", "../../..")}}, wantErr: `archive entry "a/up": symlink target "../../.." escapes the destination`, want: ErrUnsafe},
		{name: "hardlink escape", layers: [][]ent{{hardlink("pw", "../../etc/passwd")}}, wantErr: `archive entry "pw": hard link target "../../etc/passwd" escapes the destination`, want: ErrUnsafe},
		{name: "hardlink absolute", layers: [][]ent{{hardlink("pw", "/etc/passwd")}}, wantErr: `hard link to absolute path "/etc/passwd"`, want: ErrUnsafe},
		{name: "hardlink through absolute symlink", layers: [][]ent{{symlink("etc", "/hostetc"), hardlink("pw", "etc/passwd")}}, wantErr: `hard link target "etc/passwd" does not exist`, want: ErrUnsafe},
		{name: "device node", layers: [][]ent{{{name: "dev/null", typ: tar.TypeChar, mode: 0o666}}}, wantErr: `archive entry "dev/null": device node not allowed`, want: ErrUnsafe},
		{name: "fifo", layers: [][]ent{{{name: "p", typ: tar.TypeFifo, mode: 0o666}}}, wantErr: `FIFO not allowed`, want: ErrUnsafe},
		{name: "too many entries", layers: [][]ent{{file("a", ""), file("b", ""), file("c", "")}}, opts: []Option{WithMaxEntries(2)}, wantErr: `archive entry "c": more than 2 entries`, want: ErrLimit},
		{name: "too many bytes", layers: [][]ent{{file("a", "12345"), file("b", "678")}}, opts: []Option{WithMaxBytes(6)}, wantErr: `archive entry "b": content exceeds 6 bytes in total`, want: ErrLimit},
		{name: "limits span layers", layers: [][]ent{{file("a", "")}, {file("b", "")}}, opts: []Option{WithMaxEntries(1), WithStats(&Stats{})}, wantErr: `more than 1 entries`, want: ErrLimit},
		{name: "bad whiteout", layers: [][]ent{{dir("d"), file("d/.wh...", "")}}, wantErr: `invalid whiteout`, want: ErrUnsafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, check := sandbox(t)
			defer check()
			var err error
			for _, l := range tt.layers {
				if err = Extract(context.Background(), bytes.NewReader(mktar(t, l...)), dst, tt.opts...); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Extract error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Name == "" {
				t.Errorf("error %v is not an *EntryError naming the entry", err)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name   string
		layers [][]ent
		want   []string
	}{
		{
			name:   "plain",
			layers: [][]ent{{dir("./"), dir("bin"), file("bin/tool", "hi"), file("./etc/conf", "c")}},
			want:   []string{"bin/", "bin/tool: hi", "etc/", "etc/conf: c"},
		},
		{
			name:   "absolute symlink stays inside",
			layers: [][]ent{{symlink("etc", "/hostetc"), file("etc/x", "in")}},
			want:   []string{"etc -> /hostetc", "hostetc/", "hostetc/x: in"},
		},
		{
			name:   "relative symlink chain is confined",
			layers: [][]ent{{dir("a"), symlink("a/l", "../b"), file("a/l/f", "1")}},
			want:   []string{"a/", "a/l -> ../b", "b/", "b/f: 1"},
		},
		{
			name:   "file replaces symlink rather than writing through it",
			layers: [][]ent{{symlink("f", "/etc/passwd"), file("f", "mine")}},
			want:   []string{"f: mine"},
		},
		{
			name:   "hardlink inside",
			layers: [][]ent{{file("a", "same"), hardlink("b", "a")}},
			want:   []string{"a: same", "b: same"},
		},
		{
			name:   "whiteout removes lower file",
			layers: [][]ent{{dir("d"), file("d/x", "1"), file("d/y", "2")}, {file("d/.wh.x", "")}},
			want:   []string{"d/", "d/y: 2"},
		},
		{
			name:   "opaque whiteout keeps this layer",
			layers: [][]ent{{dir("d"), file("d/old", "1")}, {dir("d"), file("d/new", "2"), file("d/.wh..wh..opq", "")}},
			want:   []string{"d/", "d/new: 2"},
		},
		{
			name:   "read-only dir still filled",
			layers: [][]ent{{{name: "ro", typ: tar.TypeDir, mode: 0o555}, file("ro/f", "x")}},
			want:   []string{"ro/", "ro/f: x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, check := sandbox(t)
			defer check()
			for _, l := range tt.layers {
				if err := Extract(context.Background(), bytes.NewReader(mktar(t, l...)), dst); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, tree(t, dst)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExtractPreservesMetadata: modes and times come from the archive; the
// setuid bit only when root extracts (an unprivileged extraction strips it,
// and does not try to chown).
func TestExtractPreservesMetadata(t *testing.T) {
	t.Run("root", func(t *testing.T) {
		testenv.RequireRoot(t)
		extractMetadata(t, true)
	})
	t.Run("nobody", func(t *testing.T) {
		if testenv.RunAsNobody(t) {
			return
		}
		extractMetadata(t, false)
	})
}

func extractMetadata(t *testing.T, root bool) {
	dst := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(1600000000, 0)
	for _, h := range []*tar.Header{
		{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o750, ModTime: mt, Uid: 1000, Gid: 1000},
		{Name: "d/x", Typeflag: tar.TypeReg, Mode: 0o4755, ModTime: mt, Uid: 1000, Gid: 1000},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	if err := Extract(context.Background(), &buf, dst); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    string
		mode fs.FileMode
	}{{"d", fs.ModeDir | 0o750}, {"d/x", 0o755}} {
		fi, err := os.Lstat(filepath.Join(dst, c.p))
		if err != nil {
			t.Fatal(err)
		}
		want := c.mode
		if root && c.p == "d/x" {
			want |= fs.ModeSetuid
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", c.p, fi.Mode(), want)
		}
		if !fi.ModTime().Equal(mt) {
			t.Errorf("%s mtime = %v, want %v", c.p, fi.ModTime(), mt)
		}
	}
}

func TestExtractDevicesAsRoot(t *testing.T) {
	testenv.RequireRoot(t) // mknod
	dst := t.TempDir()
	tb := mktar(t, ent{name: "null", typ: tar.TypeChar, mode: 0o666})
	if err := Extract(context.Background(), bytes.NewReader(tb), dst, WithDevices(true)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dst, "null"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("null mode = %v, want a char device", fi.Mode())
	}
}

// TestExtractDevicesUnprivileged: without root, device nodes and FIFOs are
// refused as unsafe even when WithDevices allows them.
func TestExtractDevicesUnprivileged(t *testing.T) {
	if testenv.RunAsNobody(t) {
		return
	}
	for _, e := range []ent{{name: "null", typ: tar.TypeChar, mode: 0o666}, {name: "fifo", typ: tar.TypeFifo, mode: 0o600}} {
		err := Extract(context.Background(), bytes.NewReader(mktar(t, e)), t.TempDir(), WithDevices(true))
		want := map[byte]string{tar.TypeChar: "device node not allowed", tar.TypeFifo: "FIFO not allowed"}[e.typ]
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), want) {
			t.Errorf("Extract of %s = %v; want ErrUnsafe, %q", e.name, err, want)
		}
	}
}

func TestExtractCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Extract(ctx, bytes.NewReader(mktar(t, file("a", "x"))), t.TempDir())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Extract = %v, want context.Canceled", err)
	}
}

func TestExtractCorrupt(t *testing.T) {
	tb := mktar(t, file("a", strings.Repeat("x", 2000)))
	err := Extract(context.Background(), bytes.NewReader(tb[:1000]), t.TempDir())
	if err == nil {
		t.Fatal("Extract of a truncated tar succeeded")
	}
}

func TestExtractAbsoluteSymlinkToHostDir(t *testing.T) {
	parent := t.TempDir()
	dst := filepath.Join(parent, "dst")
	tb := mktar(t, symlink("esc", parent), file("esc/x", "in"), symlink("esc2", "/"), file("esc2/y", "in"))
	if err := Extract(context.Background(), bytes.NewReader(tb), dst); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 {
		t.Fatalf("parent has %d entries, want only dst", len(ents))
	}
	if _, err := os.Stat("/y"); err == nil {
		t.Fatal("wrote /y on the host")
	}
	if b, err := os.ReadFile(filepath.Join(dst, "y")); err != nil || string(b) != "in" {
		t.Errorf("dst/y = %q, %v; want the file confined to dst", b, err)
	}
}

// TestExtractDefaultEntryLimit streams DefaultMaxEntries+1 entries (cheap
// "./" entries, generated on the fly) with no options: the default limit
// must stop it.
func TestExtractDefaultEntryLimit(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for i := 0; i <= DefaultMaxEntries; i++ {
			if err := tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	err := Extract(context.Background(), pr, t.TempDir())
	pr.Close()
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "more than 250000 entries") {
		t.Fatalf("Extract = %v, want the default entry limit", err)
	}
}

// makeWritable lets t.TempDir's cleanup delete read-only directories when
// the tests do not run as root.
func makeWritable(dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
}

func TestExtractOwnershipAndXattrsAsRoot(t *testing.T) {
	testenv.RequireRoot(t) // ownership and trusted xattrs
	dst := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o640, Uid: 1234, Gid: 5678,
		PAXRecords: map[string]string{"SCHILY.xattr.user.dplug": "yes"}, Format: tar.FormatPAX})
	tw.WriteHeader(&tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "f", Uid: 42, Gid: 43})
	tw.Close()
	if err := Extract(context.Background(), &buf, dst); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]uint32{"f": {1234, 5678}, "l": {42, 43}} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dst, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != want[0] || st.Gid != want[1] {
			t.Errorf("%s owner = %d:%d, want %d:%d", name, st.Uid, st.Gid, want[0], want[1])
		}
	}
	val := make([]byte, 16)
	n, err := unix.Lgetxattr(filepath.Join(dst, "f"), "user.dplug", val)
	if errors.Is(err, unix.ENOTSUP) {
		testenv.Unavailable(t, "needs a temp dir filesystem with user xattrs (TMPDIR=%s)", os.TempDir())
	}
	if err != nil || string(val[:n]) != "yes" {
		t.Errorf("xattr user.dplug = %q, %v", val[:n], err)
	}
}
