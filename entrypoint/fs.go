package entrypoint

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// headSize is how much of a file the check reads: enough for an ELF header
// and for a #! line as long as Linux reads one (BINPRM_BUF_SIZE).
const headSize = 256

// FS is a rootfs as the check sees it. Names are slash-separated and
// absolute within the rootfs ("/usr/bin/x"); Lstat and Readlink do not
// follow a final symlink.
type FS interface {
	Lstat(name string) (fs.FileInfo, error)
	Readlink(name string) (string, error)
	// Head returns up to n first bytes of the regular file name.
	Head(name string, n int) ([]byte, error)
}

// Dir is the rootfs in the directory root on this machine.
func Dir(root string) FS { return dirFS(root) }

type dirFS string

func (d dirFS) host(name string) string {
	return filepath.Join(string(d), filepath.FromSlash(path.Clean("/"+name)))
}

func (d dirFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(d.host(name)) }
func (d dirFS) Readlink(name string) (string, error)   { return os.Readlink(d.host(name)) }

func (d dirFS) Head(name string, n int) ([]byte, error) {
	p := d.host(name)
	// Resolve reports final components that are not symlinks; refuse one
	// that became a symlink since, rather than follow it out of the rootfs.
	if fi, err := os.Lstat(p); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	m, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:m], nil
}

// Tar reads a rootfs (uncompressed tar streams, one per layer, lowest
// first) into an index the check can use without extracting it: names,
// modes, link targets, and the first bytes of executable files only. Later
// entries replace earlier ones.
func Tar(layers ...io.Reader) (FS, error) {
	t := tarFS{}
	for _, r := range layers {
		if err := t.add(r); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t tarFS) add(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading rootfs layer: %w", err)
		}
		name := path.Clean("/" + h.Name)
		e := &tarEntry{name: path.Base(name), typ: h.Typeflag, mode: fs.FileMode(h.Mode).Perm(), link: h.Linkname}
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 {
			buf := make([]byte, headSize)
			n, err := io.ReadFull(tr, buf)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return fmt.Errorf("reading rootfs layer: %s: %w", h.Name, err)
			}
			e.head = buf[:n]
		}
		t[name] = e
		// Parents exist even when the tar does not list them.
		for d := path.Dir(name); d != "/" && t[d] == nil; d = path.Dir(d) {
			t[d] = &tarEntry{name: path.Base(d), typ: tar.TypeDir, mode: 0o755}
		}
	}
}

type tarFS map[string]*tarEntry

type tarEntry struct {
	name string
	typ  byte
	mode fs.FileMode
	link string
	head []byte
}

func (t tarFS) entry(name string) (*tarEntry, error) {
	name = path.Clean("/" + name)
	if name == "/" {
		return &tarEntry{name: "/", typ: tar.TypeDir, mode: 0o755}, nil
	}
	// A hard link is the file it links to.
	for hops := 0; hops < 8; hops++ {
		e, ok := t[name]
		if !ok {
			return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrNotExist}
		}
		if e.typ != tar.TypeLink {
			return e, nil
		}
		name = path.Clean("/" + e.link)
	}
	return nil, &fs.PathError{Op: "lstat", Path: name, Err: errors.New("hard link chain too long")}
}

func (t tarFS) Lstat(name string) (fs.FileInfo, error) {
	e, err := t.entry(name)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (t tarFS) Readlink(name string) (string, error) {
	e, err := t.entry(name)
	if err != nil {
		return "", err
	}
	if e.typ != tar.TypeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symlink")}
	}
	return e.link, nil
}

func (t tarFS) Head(name string, n int) ([]byte, error) {
	e, err := t.entry(name)
	if err != nil {
		return nil, err
	}
	if !e.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if len(e.head) > n {
		return e.head[:n], nil
	}
	return e.head, nil
}

func (e *tarEntry) Name() string { return e.name }
func (e *tarEntry) Size() int64  { return int64(len(e.head)) }
func (e *tarEntry) Mode() fs.FileMode {
	switch e.typ {
	case tar.TypeDir:
		return e.mode | fs.ModeDir
	case tar.TypeSymlink:
		return e.mode | fs.ModeSymlink
	case tar.TypeReg:
		return e.mode
	default:
		return e.mode | fs.ModeIrregular
	}
}
func (e *tarEntry) ModTime() time.Time { return time.Time{} }
func (e *tarEntry) IsDir() bool        { return e.typ == tar.TypeDir }
func (e *tarEntry) Sys() any           { return nil }

// maxHops bounds the symlinks followed while resolving one path, as
// Linux's MAXSYMLINKS does.
const maxHops = 40

// errTooManyLinks is a symlink chain longer than maxHops (or a loop).
var errTooManyLinks = errors.New("too many levels of symbolic links")

// Resolve follows name (absolute within the rootfs, possibly through
// symlinks) to the file it names, as the kernel would with the rootfs as
// its root: an absolute symlink target starts again at the rootfs's root and
// ".." at the root stays there. The final component of the result is not a
// symlink. At most 40 symlinks are followed.
func Resolve(fsys FS, name string) (string, error) {
	resolved := "/"
	rest := name
	hops := 0
	for rest != "" {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		switch comp {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		next := path.Join(resolved, comp)
		fi, err := fsys.Lstat(next)
		if err != nil {
			return "", &fs.PathError{Op: "resolving", Path: next, Err: unwrapPathErr(err)}
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if hops++; hops > maxHops {
				return "", &fs.PathError{Op: "resolving", Path: name, Err: errTooManyLinks}
			}
			target, err := fsys.Readlink(next)
			if err != nil {
				return "", &fs.PathError{Op: "resolving", Path: next, Err: unwrapPathErr(err)}
			}
			if strings.HasPrefix(target, "/") {
				resolved = "/"
			}
			if rest != "" {
				target += "/" + rest
			}
			rest = target
			continue
		}
		if rest != "" && strings.Trim(rest, "/") != "" && !fi.IsDir() {
			return "", &fs.PathError{Op: "resolving", Path: next, Err: errors.New("not a directory")}
		}
		resolved = next
	}
	return resolved, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
