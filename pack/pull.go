package pack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dplug/dplug/archive"
)

// Pull downloads the plugin at the registry reference ref into dir as a
// plugin directory (config.json + rootfs/) that `docker plugin create`
// accepts. See Unpack for the guarantees about dir.
func Pull(ctx context.Context, ref, dir string, opts ...Option) error {
	p, err := Fetch(ctx, ref, opts...)
	if err != nil {
		return err
	}
	return Unpack(ctx, p, dir, opts...)
}

// unpackAttempts bounds how often Unpack starts over after a transient
// network failure in the middle of a layer.
const unpackAttempts = 3

// Unpack writes p into dir as a plugin directory. dir must not exist or be
// empty. Everything is written to a temporary sibling first and renamed
// into place only when every blob has been verified, so a failed pull
// leaves nothing behind; the temp dirs of killed pulls are removed by the
// next Unpack into the same parent. A connection lost mid-layer makes it
// start over (up to 3 times); a digest mismatch, a damaged blob or a
// timeout never does.
//
// The rootfs is extracted with install's policy: device nodes and FIFOs
// are refused (runc creates /dev). dir is created 0700, where setuid and
// setgid bits and file capabilities are kept; WithDirMode with group or
// other bits strips them.
func Unpack(ctx context.Context, p *Plugin, dir string, opts ...Option) error {
	o := makeOptions(opts...)
	var err error
	wait := retryBackoff.Duration
	for attempt := 1; ; attempt++ {
		if err = unpack(ctx, p, dir, o); err == nil || errors.Is(err, ErrDigestMismatch) || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt == unpackAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		o.log.Warn("pull interrupted; starting over", "ref", p.ref, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 3
	}
}

func unpack(ctx context.Context, p *Plugin, dir string, o *options) (err error) {
	wrap := func(err error) error { return fmt.Errorf("unpacking %s into %s: %w", p.ref, dir, err) }
	replace, err := checkTarget(dir)
	if err != nil {
		return wrap(err)
	}
	cfg, err := p.Config(ctx)
	if err != nil {
		return err
	}
	if diffs := configDiffIDs(p.config); len(diffs) != len(p.manifest.Layers) {
		o.log.Warn("config rootfs.diff_ids does not match the layer count (engines ≥20.10 ignore it)",
			"ref", p.ref, "diff_ids", len(diffs), "layers", len(p.manifest.Layers))
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return wrap(err)
	}
	cleanStalePulls(parent, o)
	// The temp dir is 0700 (MkdirTemp) until everything is in place: no
	// one else can reach a setuid file or race the checks below.
	tmp, lock, err := makePullTemp(parent, filepath.Base(dir))
	if err != nil {
		return wrap(err)
	}
	defer lock.Close()
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	// The directory form carries the plugin config without rootfs, which
	// `docker plugin create` would overwrite anyway.
	cfg.Rootfs = nil
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return wrap(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "config.json"), append(data, '\n'), 0o644); err != nil {
		return wrap(err)
	}
	rootfs := filepath.Join(tmp, "rootfs")
	var stats archive.Stats
	// install's policy: no device nodes or FIFOs (runc makes /dev).
	// Errors name paths inside the rootfs, not the host temp dir.
	short := map[string]string{rootfs: "rootfs"}
	if real, err := filepath.EvalSymlinks(tmp); err == nil {
		short[filepath.Join(real, "rootfs")] = "rootfs"
	}
	err = p.Layers(ctx, func(r io.Reader) error {
		return shorten(archive.Extract(ctx, r, rootfs, archive.WithStats(&stats), archive.WithDevices(false),
			archive.WithMaxBytes(max(o.maxSize, archive.DefaultMaxBytes))), short) // Layers applies o.maxSize
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil { // an empty layer still yields rootfs/
		return wrap(err)
	}
	if o.dirMode&0o077 != 0 {
		// Others can reach the rootfs: no setuid/setgid file or file
		// capability for them to run.
		if err := stripPrivileges(rootfs); err != nil {
			return wrap(err)
		}
	}
	if err := os.Chmod(tmp, o.dirMode); err != nil {
		return wrap(err)
	}
	if replace {
		if err := os.Remove(dir); err != nil {
			return wrap(err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return wrap(err)
	}
	o.log.Debug("unpacked", "ref", p.ref, "dir", dir)
	return nil
}

// pullTempMarker is in the name of every pull's temp dir:
// ".DIR.dplug-pull-RANDOM", next to DIR.
const pullTempMarker = ".dplug-pull-"

// errLocked: another process holds the lock.
var errLocked = errors.New("locked by another process")

// makePullTemp creates the temp dir of a pull next to DIR and locks it
// (flock) for as long as the pull runs: the lock is how the next pull
// tells a live pull's temp dir from one a killed pull left.
func makePullTemp(parent, base string) (string, *os.File, error) {
	for range 5 {
		tmp, err := os.MkdirTemp(parent, "."+base+pullTempMarker)
		if err != nil {
			return "", nil, err
		}
		lock, err := lockDir(tmp)
		if err != nil {
			if errors.Is(err, errLocked) || errors.Is(err, fs.ErrNotExist) {
				continue // a concurrent pull is cleaning it up as stale
			}
			os.Remove(tmp)
			return "", nil, err
		}
		// Between MkdirTemp and the lock, a concurrent pull may have
		// taken it for stale and removed it: then try another.
		if sameDir(lock, tmp) {
			return tmp, lock, nil
		}
		lock.Close()
	}
	return "", nil, errors.New("could not create a temporary directory: concurrent pulls kept removing it")
}

// sameDir reports whether the open dir f is still the one at path.
func sameDir(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Lstat(path)
	return err == nil && os.SameFile(a, b)
}

// cleanStalePulls removes the temp dirs that killed pulls left in parent:
// those no live pull holds the lock of. Failures are only logged.
func cleanStalePulls(parent string, o *options) {
	removed, errs := StalePulls(parent, true)
	for _, p := range removed {
		o.log.Info("removed the temp dir of an interrupted pull", "dir", p)
	}
	for _, err := range errs {
		o.log.Warn("cannot remove the temp dir of an interrupted pull", "err", err)
	}
}

// StalePulls lists the temp dirs killed pulls left in parent
// (".DIR.dplug-pull-RANDOM" dirs no live pull holds the lock of) and, with
// remove, removes them. Nothing else in parent is ever touched; a live
// pull's temp dir is never listed. dplug doctor uses it for the parents
// that pulls recorded.
func StalePulls(parent string, remove bool) (stale []string, errs []error) {
	if !pullLocks {
		return nil, nil
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), pullTempMarker) {
			continue
		}
		path := filepath.Join(parent, e.Name())
		lock, err := lockDir(path)
		if err != nil {
			continue // a live pull's, or gone already
		}
		if sameDir(lock, path) {
			if !remove {
				stale = append(stale, path)
			} else if err := os.RemoveAll(path); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", path, err))
			} else {
				stale = append(stale, path)
			}
		}
		lock.Close()
	}
	return stale, errs
}

// stripPrivileges clears the setuid and setgid bits and removes the file
// capabilities of every regular file under root.
func stripPrivileges(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			if err := os.Chmod(path, m.Perm()|m&fs.ModeSticky); err != nil {
				return err
			}
		}
		return dropCaps(path)
	})
}

// checkTarget accepts a missing or empty directory and reports whether an
// empty one must be removed before the rename.
func checkTarget(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case len(entries) > 0:
		return false, fmt.Errorf("%s exists and is not empty: pull into a new directory", dir)
	}
	return true, nil
}
