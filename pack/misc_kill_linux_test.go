package pack

// The Linux half of misc_kill_test.go: file capabilities, the send queue
// and hard links by inode.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dplug/dplug/internal/testenv"
)

// TestDropCaps: nothing to drop and a file system without xattrs are
// fine; any other failure is an error.
func TestDropCaps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := dropCaps(file); err != nil {
		t.Errorf("dropCaps(no caps) = %v", err)
	}
	if _, err := os.Lstat("/proc/version"); err == nil {
		err := unix.Lremovexattr("/proc/version", "security.capability")
		testenv.Need(t, err == unix.ENOTSUP, "removexattr on /proc/version fails with ENOTSUP (got %v)", err)
		if err := dropCaps("/proc/version"); err != nil {
			t.Errorf("dropCaps(no xattr support) = %v", err)
		}
	}
	missing := filepath.Join(t.TempDir(), "missing")
	var pe *os.PathError
	if err := dropCaps(missing); !errors.As(err, &pe) || pe.Op != "removexattr" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dropCaps(missing) = %v; want a removexattr PathError", err)
	}
}

// TestSendQueue: a TCP connection's send queue is known (0 when idle);
// a connection without a file descriptor, or whose descriptor is not a
// socket, reports -1.
func TestSendQueue(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if q := sendQueue(c); q != 0 {
		t.Errorf("sendQueue(idle TCP) = %d; want 0", q)
	}
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	f, err := os.Open(os.Args[0]) // a descriptor SIOCOUTQ does not apply to
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, c := range map[string]net.Conn{
		"pipe":                  p1,
		"no raw conn":           rawConn{Conn: p1, err: errors.New("no descriptor")},
		"not a socket (ENOTTY)": rawConn{Conn: p1, f: f},
	} {
		if q := sendQueue(c); q != -1 {
			t.Errorf("sendQueue(%s) = %d; want -1", name, q)
		}
	}
}

// rawConn is a net.Conn whose syscall.Conn is f's, or fails with err.
type rawConn struct {
	net.Conn
	f   *os.File
	err error
}

func (c rawConn) SyscallConn() (syscall.RawConn, error) {
	if c.err != nil {
		return nil, c.err
	}
	return c.f.SyscallConn()
}

// TestBindMountedFileNotALink: a file that appears twice in the rootfs
// (bind-mounted over another file: the same device and inode, one link)
// is stored twice, as dockerd's archive does; only files with several
// links become tar hard links. Kills inode_unix.go's `st.Nlink <= 1` ->
// `< 1`.
func TestBindMountedFileNotALink(t *testing.T) {
	testenv.RequireRoot(t)
	dir := testDir(t)
	rootfs := filepath.Join(dir, "rootfs")
	writeFiles(t, rootfs, map[string]string{"a": "same bytes", "b": "other"})
	if err := unix.Mount(filepath.Join(rootfs, "a"), filepath.Join(rootfs, "b"), "", unix.MS_BIND, ""); err != nil {
		testenv.Unavailable(t, "bind mount: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(filepath.Join(rootfs, "b"), unix.MNT_DETACH); err != nil {
			t.Error(err)
		}
	})
	gz, _, _ := layerBytes(t, dir)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		got[hdr.Name] = fmt.Sprintf("%c %q %s", hdr.Typeflag, body, hdr.Linkname)
	}
	for name, want := range map[string]string{
		"a":        `0 "same bytes" `,
		"b":        `0 "same bytes" `,
		"bin/plug": `1 "" bin/hard`, // a real hard link still is one (bin/hard comes first)
	} {
		if got[name] != want {
			t.Errorf("%s in the layer: %s; want %s", name, got[name], want)
		}
	}
}
