package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/testenv"
	"github.com/dplug/dplug/internal/testplugin"
)

// capNetRaw is the security.capability xattr of `setcap cap_net_raw+ep`.
const capNetRaw = "\x01\x00\x00\x02\x00 \x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// entry is one tar entry of a test layer.
type entry struct {
	hdr  tar.Header
	body string
}

func gzipEntries(t *testing.T, entries []entry) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, e := range entries {
		h := e.hdr
		h.Size = int64(len(e.body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(tb.Bytes())
	zw.Close()
	return zb.Bytes()
}

// TestPullRefusesDevices: pull applies install's policy: no device node,
// no FIFO (runc makes /dev).
func TestPullRefusesDevices(t *testing.T) {
	for _, tt := range []struct {
		name string
		hdr  tar.Header
	}{
		{"char device", tar.Header{Name: "dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
		{"block device", tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Mode: 0o660, Devmajor: 8}},
		{"fifo", tar.Header{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			layer := gzipEntries(t, []entry{{hdr: tar.Header{Name: "bin/plug", Mode: 0o755}, body: "x"}, {hdr: tt.hdr}})
			host := fakeRegistry(t, newArtifact(t, layer, nil), nil)
			parent := t.TempDir()
			err := Pull(context.Background(), host+"/x/p:1", filepath.Join(parent, "out"), anon)
			if !errors.Is(err, archive.ErrUnsafe) {
				t.Fatalf("Pull = %v; want archive.ErrUnsafe", err)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("Pull left %v behind", entries)
			}
		})
	}
}

// TestPullPrivileges: setuid/setgid bits and file capabilities are kept in
// the default 0700 dir and stripped from a dir others can enter.
func TestPullPrivileges(t *testing.T) {
	testenv.RequireRoot(t) // only root keeps setuid bits and sets capabilities
	layer := gzipEntries(t, []entry{
		{hdr: tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o2755}},
		{hdr: tar.Header{Name: "bin/suid", Mode: 0o4755}, body: "s"},
		{hdr: tar.Header{Name: "bin/sgid", Mode: 0o2755}, body: "g"},
		{hdr: tar.Header{Name: "bin/ping", Mode: 0o755, Format: tar.FormatPAX,
			PAXRecords: map[string]string{"SCHILY.xattr.security.capability": capNetRaw}}, body: "p"},
	})
	host := fakeRegistry(t, newArtifact(t, layer, nil), nil)
	for _, tt := range []struct {
		name    string
		opts    []Option
		dirMode fs.FileMode
		keep    bool
	}{
		{"default 0700", nil, 0o700, true},
		{"0755", []Option{WithDirMode(0o755)}, 0o755, false},
		{"0750", []Option{WithDirMode(0o750)}, 0o750, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := Pull(context.Background(), host+"/x/p:1", out, append([]Option{anon}, tt.opts...)...); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != tt.dirMode {
				t.Errorf("DIR mode = %v, %v; want %v", fi.Mode(), err, tt.dirMode)
			}
			for name, bit := range map[string]fs.FileMode{"bin/suid": fs.ModeSetuid, "bin/sgid": fs.ModeSetgid} {
				fi, err := os.Lstat(filepath.Join(out, "rootfs", name))
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode()&bit != 0; got != tt.keep {
					t.Errorf("%s: mode %v; want the %v bit kept = %v", name, fi.Mode(), bit, tt.keep)
				}
				if fi.Mode().Perm() != 0o755 {
					t.Errorf("%s: permissions %v; want 0755", name, fi.Mode().Perm())
				}
			}
			caps, ok := fileCaps(filepath.Join(out, "rootfs/bin/ping"))
			if ok != tt.keep || (ok && caps != capNetRaw) {
				t.Errorf("bin/ping capabilities = %q, %v; want kept = %v", caps, ok, tt.keep)
			}
			if fi, err := os.Lstat(filepath.Join(out, "rootfs/bin")); err != nil || fi.Mode()&fs.ModeSetgid == 0 {
				t.Errorf("bin/: mode %v, %v; a setgid directory stays setgid (it grants nothing)", fi.Mode(), err)
			}
		})
	}
}

// TestPullCleansStaleTempDirs: the temp dirs of killed pulls are removed by
// the next pull into the same parent; a live pull's is not.
func TestPullCleansStaleTempDirs(t *testing.T) {
	layer := testplugin.TarGz(t, map[string]testplugin.File{"f": {Body: strings.Repeat("x", 1<<16)}})
	a := newArtifact(t, layer, nil)
	var hold atomic.Bool
	hold.Store(true)
	release := make(chan struct{})
	var held atomic.Int32
	host := fakeRegistry(t, a, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, a.lyrDesc.Digest) || !hold.Load() {
			return false
		}
		held.Add(1)
		w.Header().Set("Content-Length", "1")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		select { // a live pull, stalled mid-layer until released
		case <-release:
		case <-r.Context().Done():
		}
		return true
	})
	parent := t.TempDir()
	// A killed pull's temp dir: nobody holds its lock.
	stale := filepath.Join(parent, ".p1"+pullTempMarker+"123")
	if err := os.MkdirAll(filepath.Join(stale, "rootfs/etc"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Look-alikes that are no pull's: a plain dir and a regular file.
	other := filepath.Join(parent, "keep"+pullTempMarker+"x")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(parent, ".f"+pullTempMarker+"x")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// Pull A stalls mid-layer, its temp dir in place.
	ctx := context.Background()
	doneA := make(chan error, 1)
	go func() {
		doneA <- Pull(ctx, host+"/x/p:1", filepath.Join(parent, "a"), anon, WithTimeout(time.Minute))
	}()
	var live string
	for deadline := time.Now().Add(10 * time.Second); live == ""; {
		if time.Now().After(deadline) {
			t.Fatal("pull A never created its temp dir")
		}
		matches, _ := filepath.Glob(filepath.Join(parent, ".a"+pullTempMarker+"*"))
		if len(matches) == 1 && held.Load() > 0 {
			live = matches[0]
			break
		}
		time.Sleep(10 * time.Millisecond) // polling for pull A's progress
	}

	// Pull B, into the same parent, cleans up.
	hold.Store(false)
	if err := Pull(ctx, host+"/x/p:1", filepath.Join(parent, "b"), anon); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the killed pull's temp dir is still there (%v)", err)
	}
	for _, p := range []string{live, other, file} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	close(release) // A's layer request ends: A fails (short body) and cleans up after itself
	<-doneA
	if _, err := os.Lstat(live); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("pull A left its temp dir (%v)", err)
	}
}

// TestPullShortErrorPaths: an entry path too long for the file system gives
// a short error naming the path inside the rootfs, not kilobytes of host
// path.
func TestPullShortErrorPaths(t *testing.T) {
	seg := strings.Repeat("d", 250)
	name := strings.Repeat(seg+"/", 18) + "f"
	layer := gzipEntries(t, []entry{{hdr: tar.Header{Name: name, Mode: 0o644}, body: "x"}})
	host := fakeRegistry(t, newArtifact(t, layer, nil), nil)
	parent := t.TempDir()
	err := Pull(context.Background(), host+"/x/p:1", filepath.Join(parent, "out"), anon)
	if !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Fatalf("Pull = %v; want ENAMETOOLONG", err)
	}
	msg := err.Error()
	if len(msg) > 1000 || strings.Contains(msg, parent) || strings.Contains(msg, pullTempMarker) {
		t.Errorf("error is %d bytes, names the host path: %s", len(msg), msg)
	}
	if !strings.Contains(msg, "rootfs/") || !strings.Contains(msg, "file name too long") {
		t.Errorf("error %q does not name the path in the rootfs and the cause", msg)
	}
}

// TestPullSizeLimits: a layer that expands far beyond its compressed size
// stops early (the ratio bound), unless --max-size allows it; the total
// is bounded by --max-size.
func TestPullSizeLimits(t *testing.T) {
	bomb := testplugin.TarGz(t, map[string]testplugin.File{"zeros": {Body: strings.Repeat("\x00", 8<<20)}}) // ~1000:1
	noise := make([]byte, 2<<20)
	for i := range noise {
		noise[i] = byte(i * 2654435761 >> 13)
	}
	plain := testplugin.TarGz(t, map[string]testplugin.File{"noise": {Body: string(noise)}})
	for _, tt := range []struct {
		name  string
		layer []byte
		opts  []Option
		want  string // "" for success
	}{
		{"bomb refused", bomb, nil, "times its compressed size"},
		{"bomb allowed by an explicit max size", bomb, []Option{WithMaxSize(64 << 20)}, ""},
		{"total above the max size", plain, []Option{WithMaxSize(1 << 20)}, "raise --max-size"},
		{"total within the max size", plain, []Option{WithMaxSize(4 << 20)}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			host := fakeRegistry(t, newArtifact(t, tt.layer, nil), nil)
			ctx := context.Background()
			opts := append([]Option{anon}, tt.opts...)
			p, err := Fetch(ctx, host+"/x/p:1", opts...)
			if err != nil {
				t.Fatal(err)
			}
			p.limits.floor = 1 << 20 // instead of 512 MiB, to keep the test small
			parent := t.TempDir()
			err = Unpack(ctx, p, filepath.Join(parent, "out"), opts...)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Unpack = %v; want ErrTooLarge saying %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(parent); len(entries) != 0 {
				t.Errorf("Unpack left %v behind", entries)
			}
		})
	}
	if DefaultMaxSize > 4<<30 {
		t.Errorf("DefaultMaxSize = %d; want at most 4 GiB", DefaultMaxSize)
	}
}
