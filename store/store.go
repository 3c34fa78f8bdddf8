package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/gofrs/flock"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/safepath"
)

// Errors callers branch on.
var (
	// ErrNotFound is wrapped when no plugin matches a name or ID.
	ErrNotFound = errors.New("plugin not found")
	// ErrExists is wrapped when installing under a name already taken.
	ErrExists = errors.New("plugin already exists")
	// ErrEnabled is wrapped when removing an enabled plugin without force.
	ErrEnabled = errors.New("plugin is enabled")
	// ErrNotGranted is wrapped when the plugin's privileges were not granted.
	ErrNotGranted = errors.New("privileges not granted")
	// ErrReadOnly is wrapped when changing a store this process cannot
	// write (see Open).
	ErrReadOnly = errors.New("the plugin store is read-only")
)

// kindError carries dockerd's wording in its message while matching one of
// the sentinel errors above with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}

const (
	inventoryFile = "plugins.json"
	lostFoundDir  = "lost+found"
	lockFile      = "plugins.lock"
	tmpDir        = "tmp"
	configFile    = "config.json"
	settingsFile  = "plugin-settings.json"
	rootfsDir     = "rootfs"
)

var validID = regexp.MustCompile(`^[a-f0-9]{64}$`)

// Store is an open plugin store. It is safe for concurrent use by several
// goroutines and several processes: every change takes the store's file
// lock.
type Store struct {
	dir      string // ROOT/plugins
	readOnly bool   // this process cannot write dir
	o        options
}

// Option configures Open.
type Option func(*options)

type options struct {
	log     *slog.Logger
	extract []archive.Option
}

// WithLogger sends the store's diagnostics (leftovers cleaned, orphans
// found) to l. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithExtractOptions passes options to archive.Extract for every layer
// installed (e.g. tighter limits). Device nodes are always refused.
func WithExtractOptions(opts ...archive.Option) Option {
	return func(o *options) { o.extract = append(o.extract, opts...) }
}

func makeOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Open opens (creating it 0700 if needed) the store under root/plugins.
// When no other process holds the store lock it also removes what killed
// dplug processes left under tmp/ and logs orphan plugin dirs; that check
// costs two directory reads.
//
// A store this process cannot write (a read-only mount, another user's
// store) is opened read-only: nothing is created, chmodded or cleaned, the
// reads (Get, List, Doctor without fix) work and every change fails with
// ErrReadOnly. A damaged inventory does not make Open fail: the operations
// that read it return an *InventoryError, and Doctor repairs it.
func Open(root string, opts ...Option) (*Store, error) {
	dir := filepath.Join(root, "plugins")
	s := &Store{dir: dir, o: makeOptions(opts)}
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		// Missing (or not reachable): creating it says what is wrong.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("opening plugin store: %w", err)
		}
	case !fi.IsDir():
		return nil, fmt.Errorf("opening plugin store: %s is not a directory", dir)
	}
	if !writable(dir) {
		s.readOnly = true
		s.o.log.Debug("plugin store is read-only: opened for reading only", "dir", dir)
		return s, nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening plugin store: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("opening plugin store: %w", err)
	}
	lk := flock.New(filepath.Join(dir, lockFile), flock.SetPermissions(0o600))
	defer lk.Close()
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("opening plugin store: %w", err)
	}
	if ok {
		defer lk.Unlock()
		removed, _ := s.cleanTmp()
		for _, r := range removed {
			s.o.log.Debug("removed leftover", "path", r)
		}
		inv, err := s.readInventory()
		if errors.Is(err, ErrDamaged) {
			// Reported by whatever reads the inventory next; doctor
			// repairs it.
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("opening plugin store: %w", err)
		}
		if orphans, _ := s.orphans(inv); len(orphans) > 0 {
			s.o.log.Warn("plugin store has directories no plugin owns; run 'dplug doctor' to see them", "count", len(orphans))
		}
	}
	return s, nil
}

// Dir is the store's directory, ROOT/plugins.
func (s *Store) Dir() string { return s.dir }

// lock takes the store's exclusive file lock; call the returned func to
// release it.
func (s *Store) lock() (func(), error) {
	if s.readOnly {
		return nil, fmt.Errorf("changing plugin store %s: %w", s.dir, ErrReadOnly)
	}
	lk := flock.New(filepath.Join(s.dir, lockFile), flock.SetPermissions(0o600))
	if err := lk.Lock(); err != nil {
		lk.Close()
		return nil, fmt.Errorf("locking plugin store: %w", err)
	}
	return func() { _ = lk.Unlock(); _ = lk.Close() }, nil
}

// beforeRename, when set (by tests only), runs in writeFile between the
// complete, synced temp file and its rename over path; an error aborts the
// write as a crash at that moment would.
var beforeRename func(tmp, path string) error

// writeFile atomically replaces path with data: a temp file under tmp/ is
// written, fsynced and renamed over path, then path's directory is fsynced.
// Hold the lock (Doctor removes unlocked temp files).
func (s *Store) writeFile(path string, data []byte, perm fs.FileMode) error {
	tmpd, err := s.ownDir(tmpDir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(tmpd, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if beforeRename != nil {
		if err := beforeRename(tmp, path); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// workDir is a directory under tmp/ owned by this process: it holds an
// flock on it so that cleaners (which take the store lock first) leave it
// alone while we live, and remove it if we die.
type workDir struct {
	path string
	fd   *os.File
}

// newWorkDir creates and locks a work dir. Hold the store lock, so that no
// cleaner sees it between mkdir and flock.
func (s *Store) newWorkDir() (*workDir, error) {
	tmpd, err := s.ownDir(tmpDir)
	if err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	p, err := os.MkdirTemp(tmpd, "work-")
	if err != nil {
		return nil, fmt.Errorf("creating work dir: %w", err)
	}
	w, err := lockDir(p)
	if err != nil {
		os.Remove(p)
		return nil, err
	}
	return w, nil
}

func lockDir(p string) (*workDir, error) {
	fd, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	if err := tryLockFile(fd); err != nil {
		fd.Close()
		return nil, fmt.Errorf("locking %s: %w", p, err)
	}
	return &workDir{path: p, fd: fd}, nil
}

// release drops the flock (the directory may have been renamed by then).
func (w *workDir) release() { w.fd.Close() }

// discard removes the work dir and releases it.
func (w *workDir) discard() {
	_ = os.RemoveAll(w.path)
	w.release()
}

// cleanTmp removes every entry under tmp/ that no live process holds. Hold
// the store lock.
func (s *Store) cleanTmp() ([]string, error) {
	dir, err := s.ownDir(tmpDir)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			w, err := lockDir(p)
			if err != nil {
				continue // in use by a live install or remove
			}
			if err := makeWritable(p); err != nil {
				errs = append(errs, err)
			}
			if err := os.RemoveAll(p); err != nil {
				errs = append(errs, err)
			} else {
				removed = append(removed, p)
			}
			w.release()
			continue
		}
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
		} else {
			removed = append(removed, p)
		}
	}
	return removed, errors.Join(errs...)
}

// ownDir returns ROOT/plugins/name (tmp/ or lost+found/) after checking
// that it is a real directory: a symlink there would make cleaning delete,
// or doctor move plugins, wherever it points.
func (s *Store) ownDir(name string) (string, error) {
	p := filepath.Join(s.dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%s is a symlink, not the store's own directory: remove the link (dplug recreates the directory)", p)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory: remove it (dplug recreates it)", p)
	}
	return p, nil
}

// makeWritable gives the owner write permission on every directory below p
// so that RemoveAll works when running unprivileged (a rootfs may contain
// read-only directories).
func makeWritable(p string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	return filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700)
		}
		return nil
	})
}

// removeDir deletes a plugin's directory tree, tolerating read-only dirs.
func removeDir(p string) error {
	_ = makeWritable(p)
	return os.RemoveAll(p)
}

func newID() (string, error) {
	for {
		b := make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, b); err != nil {
			return "", fmt.Errorf("generating plugin ID: %w", err)
		}
		id := hex.EncodeToString(b)
		// Like dockerd: a short ID that is all digits would read as a number.
		if strings.Trim(id[:12], "0123456789") != "" {
			return id, nil
		}
	}
}

// ParseName splits a plugin name by Docker's reference rules into its
// familiar name and tag (default "latest"). Digests are refused: a local
// name must be a tag.
func ParseName(name string) (familiar, tag string, err error) {
	ref, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", "", fmt.Errorf("invalid plugin name %q: %w", name, err)
	}
	if _, ok := ref.(reference.Canonical); ok {
		return "", "", fmt.Errorf("invalid plugin name %q: a local name cannot contain a digest", name)
	}
	tag = "latest"
	if t, ok := ref.(reference.Tagged); ok {
		tag = t.Tag()
	}
	return reference.FamiliarName(ref), tag, nil
}

// ErrAmbiguous is wrapped when an ID prefix matches several plugins.
var ErrAmbiguous = errors.New("ambiguous plugin ID prefix")

// lookup resolves nameOrID the way dockerd does: full ID, then name (with
// :latest added), then a unique ID prefix. A prefix several plugins share
// is an error listing them (ErrAmbiguous).
func (inv inventory) lookup(nameOrID string) (*Plugin, error) {
	if validID.MatchString(nameOrID) {
		if p, ok := inv[nameOrID]; ok {
			return p, nil
		}
		return nil, errorf(ErrNotFound, "plugin %q not found", nameOrID)
	}
	if name, tag, err := ParseName(nameOrID); err == nil {
		for _, p := range inv {
			if p.Name == name && p.Tag == tag {
				return p, nil
			}
		}
	}
	var found []*Plugin
	if nameOrID != "" {
		for _, p := range inv.sorted() {
			if strings.HasPrefix(p.ID, nameOrID) {
				found = append(found, p)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, errorf(ErrNotFound, "plugin %q not found", nameOrID)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, p := range found {
		names = append(names, p.FullName()+" ("+p.ShortID()+")")
	}
	return nil, errorf(ErrAmbiguous, "multiple plugins found for %q: %s; give more of the ID or the name", nameOrID, strings.Join(names, ", "))
}

// resolve looks nameOrID up in inv and proves the plugin's dir lies in
// the store (no symlink out of it).
func (s *Store) resolve(inv inventory, nameOrID string) (*Plugin, error) {
	p, err := inv.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	if p.Dir, err = s.pluginDir(p.ID); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", p.FullName(), err)
	}
	return p, nil
}

// pluginDir is ROOT/plugins/<id>, refused unless it provably lies under
// ROOT/plugins.
func (s *Store) pluginDir(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("%q is not a plugin ID", id)
	}
	return safepath.Join(s.dir, id)
}

// trashDir is tmp/rm-<id>, where a plugin dir goes to be deleted.
func (s *Store) trashDir(id string) (string, error) {
	if !validID.MatchString(id) {
		return "", fmt.Errorf("%q is not a plugin ID", id)
	}
	return safepath.Join(s.dir, tmpDir, "rm-"+id)
}

func (inv inventory) sorted() []*Plugin {
	out := make([]*Plugin, 0, len(inv))
	for _, p := range inv {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].FullName() != out[j].FullName() {
			return out[i].FullName() < out[j].FullName()
		}
		return out[i].ID < out[j].ID
	})
	return out
}
