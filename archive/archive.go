package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// Default limits. A plugin rootfs is typically a few thousand files and tens
// of MiB; these leave room for fat images while stopping inode or disk
// exhaustion by a hostile layer.
const (
	DefaultMaxEntries = 250_000
	DefaultMaxBytes   = 8 << 30 // 8 GiB of file content
)

// ErrUnsafe is wrapped by every error about an entry Extract refuses to write
// (path traversal, escaping link, forbidden file type).
var ErrUnsafe = errors.New("unsafe archive entry")

// ErrLimit is wrapped when an archive exceeds the entry count or size limit.
var ErrLimit = errors.New("archive limit exceeded")

// EntryError names the tar entry Extract refused and why.
type EntryError struct {
	Name   string // the entry's name as found in the tar header
	Reason string // what is wrong with it
	Err    error  // ErrUnsafe or ErrLimit
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("archive entry %q: %s", e.Name, e.Reason)
}

func (e *EntryError) Unwrap() error { return e.Err }

// Stats counts what Extract wrote. Passing the same *Stats to several
// Extract calls (one per layer) makes the limits apply to their sum.
type Stats struct {
	Entries int64 // tar entries processed
	Bytes   int64 // bytes of regular-file content written
}

// Option configures Extract.
type Option func(*options)

type options struct {
	maxEntries int64
	maxBytes   int64
	devices    bool
	writeback  bool
	stats      *Stats
}

func makeOptions(opts []Option) options {
	o := options{maxEntries: DefaultMaxEntries, maxBytes: DefaultMaxBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.stats == nil {
		o.stats = &Stats{}
	}
	return o
}

// WithMaxEntries bounds the number of tar entries (default
// DefaultMaxEntries).
func WithMaxEntries(n int64) Option { return func(o *options) { o.maxEntries = n } }

// WithMaxBytes bounds the total size of regular-file content (default
// DefaultMaxBytes).
func WithMaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// WithDevices allows character/block device nodes and FIFOs. They are still
// refused when the process is not root. Default false.
func WithDevices(allow bool) Option { return func(o *options) { o.devices = allow } }

// WithWriteback starts writing each regular file's content to disk as
// soon as it has been extracted (sync_file_range on Linux; nothing
// elsewhere), without waiting for it: a caller that makes the tree
// durable at the end (syncfs) then finds most of it already written.
// Default false.
func WithWriteback(start bool) Option { return func(o *options) { o.writeback = start } }

// writeback is startWriteback; tests count its calls.
var writeback = startWriteback

// WithStats accumulates counts into s, and applies the limits to the totals
// already in s: share one Stats across the layers of one rootfs.
func WithStats(s *Stats) Option { return func(o *options) { o.stats = s } }

const whiteoutPrefix = ".wh."
const whiteoutMeta = ".wh..wh."
const whiteoutOpaque = ".wh..wh..opq"

type extractor struct {
	ctx     context.Context
	dst     string
	o       options
	root    bool
	written map[string]bool // cleaned names written by this call (for opaque whiteouts)
	dirs    []dirMeta       // directory modes/times applied at the end
	dirIdx  map[string]int  // index into dirs by host path

	// resolved memoises mkdirAll: cleaned relative directory -> its host
	// path, a real directory inside dst. An entry stays valid only while
	// nothing on that path can have changed: invalidate drops them all
	// whenever this extraction removes or replaces anything, creates a
	// symlink or a hard link, or creates any entry at a path that is a key
	// or an ancestor of one (ancestors lists those).
	resolved  map[string]string
	ancestors map[string]bool

	buf []byte // copy buffer shared by all regular files

	// fresh holds the host directories this extraction created empty
	// (and dst if it was empty); used every host path it created. A
	// small file whose parent is fresh and whose path is not used can
	// be written by the pool (see pool.go).
	fresh map[string]bool
	used  map[string]bool
	pool  pool

	umask      fs.FileMode // the process's, if umaskKnown
	umaskKnown bool
}

// remember caches the host path p of the relative directory rel, which
// the caller has just checked or made to be a real directory inside dst.
func (x *extractor) remember(rel, p string) {
	x.resolved[rel] = p
	for d := path.Dir(rel); d != "." && d != "/" && !x.ancestors[d]; d = path.Dir(d) {
		x.ancestors[d] = true
	}
}

// invalidate forgets every resolved directory.
func (x *extractor) invalidate() {
	clear(x.resolved)
	clear(x.ancestors)
}

// creating must be called before a non-directory entry is created at the
// relative path name: if name is (or is above) a remembered directory, the
// cache can no longer be trusted. Creation never replaces an existing path
// without a removal, which invalidates anyway; this is the belt to those
// braces.
func (x *extractor) creating(name string) {
	if _, ok := x.resolved[name]; ok || x.ancestors[name] {
		x.invalidate()
	}
}

type dirMeta struct {
	path  string
	mode  fs.FileMode
	mtime time.Time
	atime time.Time
}

// Extract reads an uncompressed tar stream from r into dst (created if
// missing), refusing any entry that would write outside dst; see the package
// documentation for the rules. On error, dst may hold a partial extraction:
// callers extract into a temporary directory and discard it on failure.
func Extract(ctx context.Context, r io.Reader, dst string, opts ...Option) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("extracting archive: %w", err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("extracting archive: %w", err)
	}
	// Resolve dst itself once so that SecureJoin results can be compared
	// with it; dst is trusted, its contents are not.
	abs, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("extracting archive: %w", err)
	}
	x := &extractor{ctx: ctx, dst: abs, o: makeOptions(opts), root: os.Geteuid() == 0, written: map[string]bool{}, dirIdx: map[string]int{},
		resolved: map[string]string{}, ancestors: map[string]bool{}, fresh: map[string]bool{}, used: map[string]bool{}}
	if isEmptyDir(abs) {
		x.fresh[abs] = true
	}
	x.umask, x.umaskKnown = processUmask()
	err = x.entries(tar.NewReader(r))
	// Nothing is written into dst once Extract has returned.
	if serr := x.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	return x.finish()
}

func (x *extractor) entries(tr *tar.Reader) error {
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if err := x.entry(tr, hdr); err != nil {
			return err
		}
	}
}

// isEmptyDir reports whether dir has no entries.
func isEmptyDir(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

func unsafeErr(name, format string, args ...any) error {
	return &EntryError{Name: name, Reason: fmt.Sprintf(format, args...), Err: ErrUnsafe}
}

// cleanName validates a tar entry name and returns it cleaned, relative, with
// no trailing slash; "" stands for dst itself.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", unsafeErr(name, "empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", unsafeErr(name, "name contains a NUL byte")
	}
	if strings.HasPrefix(name, "/") {
		return "", unsafeErr(name, "absolute path")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", unsafeErr(name, `path contains ".."`)
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", nil
	}
	return c, nil
}

func (x *extractor) entry(tr *tar.Reader, hdr *tar.Header) error {
	st := x.o.stats
	st.Entries++
	if st.Entries > x.o.maxEntries {
		return &EntryError{Name: hdr.Name, Reason: fmt.Sprintf("more than %d entries", x.o.maxEntries), Err: ErrLimit}
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		// The root entry ("./"): dst's own mode stays the caller's choice.
		return nil
	}
	dir, base := path.Split(name)
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont, tar.TypeDir:
	default:
		// Links and device nodes: the pool must be idle (pool.go).
		if err := x.drain(); err != nil {
			return err
		}
	}
	// Whiteouts delete what lower layers put in dst.
	if strings.HasPrefix(base, whiteoutPrefix) {
		if err := x.drain(); err != nil {
			return err
		}
		return x.whiteout(hdr.Name, dir, base)
	}
	parent, err := x.mkdirAll(hdr.Name, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return err
	}
	target := filepath.Join(parent, base)
	if !within(x.dst, target) {
		return unsafeErr(hdr.Name, "resolves outside the destination")
	}
	x.written[name] = true

	// Replace whatever is there, except an existing directory for a
	// directory entry (layers re-declare parents all the time). Regular
	// files and symlinks are created exclusively instead, and replace what
	// is there only when that fails (x.exclusive): one syscall less for
	// the common case of a path seen for the first time.
	var fi fs.FileInfo
	lerr := fs.ErrNotExist
	if !createsExclusively(hdr.Typeflag) {
		fi, lerr = os.Lstat(target)
		if lerr == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := x.drain(); err != nil {
				return err
			}
			x.invalidate()
			if err := os.RemoveAll(target); err != nil {
				return fmt.Errorf("extracting %q: %w", hdr.Name, err)
			}
		}
	}

	mode := hdr.FileInfo().Mode()
	perm := mode.Perm() | (mode & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky))
	if !x.root {
		perm &^= fs.ModeSetuid | fs.ModeSetgid
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		// Keep the owner able to write until finish applies the real mode.
		want := 0o700 | perm.Perm()
		chmod := true
		if lerr != nil || !fi.IsDir() {
			if err := os.Mkdir(target, want); err != nil {
				return fmt.Errorf("extracting %q: %w", hdr.Name, err)
			}
			x.fresh[target] = true
			chmod = !x.umaskKnown || x.umask&want != 0 // else Mkdir set it
		}
		x.used[target] = true
		if chmod {
			if err := os.Chmod(target, want); err != nil {
				return fmt.Errorf("extracting %q: %w", hdr.Name, err)
			}
		}
		x.remember(name, target)
		dm := dirMeta{path: target, mode: perm, mtime: hdr.ModTime, atime: hdr.AccessTime}
		if i, ok := x.dirIdx[target]; ok {
			x.dirs[i] = dm
		} else {
			x.dirIdx[target] = len(x.dirs)
			x.dirs = append(x.dirs, dm)
		}
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont: // sparse files read expanded
		if hdr.Size < 0 || st.Bytes+hdr.Size > x.o.maxBytes {
			return &EntryError{Name: hdr.Name, Reason: fmt.Sprintf("content exceeds %d bytes in total", x.o.maxBytes), Err: ErrLimit}
		}
		x.creating(name)
		if x.async(target, parent, hdr.Size) {
			err = x.submit(tr, hdr, target, perm)
		} else {
			err = x.writeFile(tr, hdr, target, perm)
		}
		x.used[target] = true
		if err != nil {
			return err
		}
		st.Bytes += hdr.Size
		return nil // writeFile applied the metadata
	case tar.TypeSymlink:
		if err := checkSymlink(name, hdr.Linkname); err != nil {
			return unsafeErr(hdr.Name, "%v", err)
		}
		x.invalidate()
		x.used[target] = true
		if err := x.exclusive(hdr, target, func() error { return os.Symlink(hdr.Linkname, target) }); err != nil {
			return err
		}
	case tar.TypeLink:
		old, err := x.linkTarget(hdr)
		if err != nil {
			return err
		}
		x.invalidate() // old may itself be a symlink
		x.used[target] = true
		if err := os.Link(old, target); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
		return nil // shares the target's metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !x.o.devices || !x.root {
			kind := "device node"
			if hdr.Typeflag == tar.TypeFifo {
				kind = "FIFO"
			}
			return unsafeErr(hdr.Name, "%s not allowed", kind)
		}
		x.creating(name)
		x.used[target] = true
		if err := mknod(target, hdr.Typeflag, perm, hdr.Devmajor, hdr.Devminor); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
	default:
		return unsafeErr(hdr.Name, "unsupported entry type %q", string(hdr.Typeflag))
	}
	return x.meta(hdr, target, perm)
}

// meta applies ownership, mode, xattrs and times to a non-directory entry.
func (x *extractor) meta(hdr *tar.Header, target string, perm fs.FileMode) error {
	isLink := hdr.Typeflag == tar.TypeSymlink
	if x.root {
		if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
		x.xattrs(hdr, target)
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	if !isLink {
		// Chmod after chown: chown clears setuid bits.
		if err := os.Chmod(target, perm); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
	}
	return setTimes(target, hdr.AccessTime, hdr.ModTime)
}

// createsExclusively reports whether entries of type typ are created with
// x.exclusive rather than after an Lstat of their path.
func createsExclusively(typ byte) bool {
	switch typ {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont, tar.TypeSymlink:
		return true
	}
	return false
}

// exclusive runs create, which must fail with fs.ErrExist rather than
// reuse or follow anything already at target. If it does, whatever is
// there is removed and create runs once more.
func (x *extractor) exclusive(hdr *tar.Header, target string, create func() error) error {
	err := create()
	if errors.Is(err, fs.ErrExist) {
		if err := x.drain(); err != nil {
			return err
		}
		x.invalidate()
		if err := os.RemoveAll(target); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
		err = create()
	}
	if err != nil {
		return fmt.Errorf("extracting %q: %w", hdr.Name, err)
	}
	return nil
}

// writeFile creates the regular file target (O_EXCL|O_NOFOLLOW, never
// through a symlink), copies its content and applies its metadata through
// the open descriptor, times last.
// xattrs applies the entry's SCHILY.xattr PAX records to target, best
// effort: filesystems may not support every namespace.
func (x *extractor) xattrs(hdr *tar.Header, target string) {
	for k, v := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			_ = lsetxattr(target, attr, v)
		}
	}
}

func (x *extractor) writeFile(r io.Reader, hdr *tar.Header, target string, perm fs.FileMode) error {
	var f *os.File
	err := x.exclusive(hdr, target, func() (err error) {
		f, err = os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		return err
	})
	if err != nil {
		return err
	}
	if err := x.copyN(f, r, hdr.Size); err != nil {
		f.Close()
		return fmt.Errorf("extracting %q: %w", hdr.Name, err)
	}
	return x.fileMeta(f, hdr, target, perm)
}

// fileMeta applies a regular file's owner, xattrs, mode and times through
// its open descriptor, and closes it.
func (x *extractor) fileMeta(f *os.File, hdr *tar.Header, target string, perm fs.FileMode) error {
	var err error
	if x.root {
		err = f.Chown(hdr.Uid, hdr.Gid)
		x.xattrs(hdr, target)
	}
	if err == nil {
		// Chmod after chown: chown clears setuid bits.
		err = f.Chmod(perm)
	}
	if err == nil {
		err = setFileTimes(f, hdr.AccessTime, hdr.ModTime)
	}
	if err == nil && x.o.writeback && hdr.Size > 0 {
		writeback(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("extracting %q: %w", hdr.Name, err)
	}
	return nil
}

// copyN copies exactly n bytes from r to w through one buffer reused for
// the whole extraction, checking the context between chunks.
func (x *extractor) copyN(w io.Writer, r io.Reader, n int64) error {
	if n > 0 && x.buf == nil {
		x.buf = make([]byte, 128<<10)
	}
	for n > 0 {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		b := x.buf
		if int64(len(b)) > n {
			b = b[:n]
		}
		m, err := io.ReadFull(r, b)
		if m > 0 {
			if _, werr := w.Write(b[:m]); werr != nil {
				return werr
			}
			n -= int64(m)
		}
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSymlink refuses a relative target that climbs above the root when
// resolved from the link's own directory.
func checkSymlink(name, target string) error {
	if target == "" {
		return errors.New("empty symlink target")
	}
	if strings.ContainsRune(target, 0) {
		return errors.New("symlink target contains a NUL byte")
	}
	if strings.HasPrefix(target, "/") {
		return nil // rooted in the rootfs; never followed outside dst
	}
	depth := strings.Count(name, "/") // directories above the link
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return fmt.Errorf("symlink target %q escapes the destination", target)
			}
		default:
			depth++
		}
	}
	return nil
}

// linkTarget resolves a hard link's target, which must already exist inside
// dst and not be a directory.
func (x *extractor) linkTarget(hdr *tar.Header) (string, error) {
	ln := hdr.Linkname
	if strings.HasPrefix(ln, "/") {
		return "", unsafeErr(hdr.Name, "hard link to absolute path %q", ln)
	}
	clean, err := cleanName(ln)
	if err != nil || clean == "" {
		return "", unsafeErr(hdr.Name, "hard link target %q escapes the destination", ln)
	}
	dir, base := path.Split(clean)
	parent, err := securejoin.SecureJoin(x.dst, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return "", fmt.Errorf("extracting %q: %w", hdr.Name, err)
	}
	old := filepath.Join(parent, base)
	if !within(x.dst, old) {
		return "", unsafeErr(hdr.Name, "hard link target %q escapes the destination", ln)
	}
	fi, err := os.Lstat(old)
	if err != nil {
		return "", unsafeErr(hdr.Name, "hard link target %q does not exist in the archive", ln)
	}
	if fi.IsDir() {
		return "", unsafeErr(hdr.Name, "hard link to directory %q", ln)
	}
	return old, nil
}

// mkdirAll makes sure the relative directory rel exists inside dst and
// returns its resolved host path. Symlinks met on the way are resolved as if
// dst were the root (SecureJoin); the missing tail of the resolved path is
// then created component by component as real directories, so nothing is
// ever created through a symlink.
func (x *extractor) mkdirAll(entry, rel string) (string, error) {
	if rel == "" || rel == "." {
		return x.dst, nil
	}
	if p, ok := x.resolved[rel]; ok {
		return p, nil
	}
	p, err := securejoin.SecureJoin(x.dst, rel)
	if err != nil {
		return "", fmt.Errorf("extracting %q: %w", entry, err)
	}
	if !within(x.dst, p) {
		return "", unsafeErr(entry, "resolves outside the destination")
	}
	tail, err := filepath.Rel(x.dst, p)
	if err != nil {
		return "", fmt.Errorf("extracting %q: %w", entry, err)
	}
	cur := x.dst
	for _, part := range strings.Split(tail, string(filepath.Separator)) {
		if part == "." || part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case err == nil && fi.IsDir():
			continue
		case err == nil:
			return "", unsafeErr(entry, "parent %q is not a directory", rel)
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("extracting %q: %w", entry, err)
		}
		if err := os.Mkdir(cur, 0o755); err != nil {
			return "", fmt.Errorf("extracting %q: %w", entry, err)
		}
		x.fresh[cur], x.used[cur] = true, true
	}
	x.remember(rel, p)
	return p, nil
}

// whiteout applies a .wh. entry found in directory dir.
func (x *extractor) whiteout(entry, dir, base string) error {
	x.invalidate() // whatever it removes may be on a remembered path
	reldir := strings.TrimSuffix(dir, "/")
	p, err := securejoin.SecureJoin(x.dst, reldir)
	if err != nil {
		return fmt.Errorf("extracting %q: %w", entry, err)
	}
	if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
		return nil // nothing below to hide
	}
	switch {
	case base == whiteoutOpaque:
		// Hide everything lower layers put in dir, keep this layer's.
		ents, err := os.ReadDir(p)
		if err != nil {
			return fmt.Errorf("extracting %q: %w", entry, err)
		}
		for _, e := range ents {
			if x.written[path.Join(reldir, e.Name())] {
				continue
			}
			if err := os.RemoveAll(filepath.Join(p, e.Name())); err != nil {
				return fmt.Errorf("extracting %q: %w", entry, err)
			}
		}
		x.written[reldir] = true
		return nil
	case strings.HasPrefix(base, whiteoutMeta):
		return nil // AUFS metadata (.wh..wh.plnk etc.): nothing to apply
	}
	victim := strings.TrimPrefix(base, whiteoutPrefix)
	if victim == "" || victim == "." || victim == ".." || strings.Contains(victim, "/") {
		return unsafeErr(entry, "invalid whiteout")
	}
	target := filepath.Join(p, victim)
	if !within(x.dst, target) {
		return unsafeErr(entry, "resolves outside the destination")
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("extracting %q: %w", entry, err)
	}
	return nil
}

// finish applies directory modes and times, deepest first so that setting a
// parent's mtime is not undone by touching its children.
func (x *extractor) finish() error {
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if fi, err := os.Lstat(d.path); err != nil || !fi.IsDir() {
			continue // replaced or whited out by a later entry
		}
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("setting mode on %s: %w", d.path, err)
		}
		if err := setTimes(d.path, d.atime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

// within reports whether p is dst or below it (both clean and absolute).
func within(dst, p string) bool {
	return p == dst || strings.HasPrefix(p, dst+string(filepath.Separator))
}
