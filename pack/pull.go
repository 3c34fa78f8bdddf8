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
// into place only when every blob has been verified, so a failed or
// interrupted pull leaves nothing behind. A connection lost mid-layer makes
// it start over (up to 3 times); a digest mismatch never does.
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
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".dplug-pull-")
	if err != nil {
		return wrap(err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return wrap(err)
	}
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
	err = p.Layers(ctx, func(r io.Reader) error {
		return archive.Extract(ctx, r, rootfs, archive.WithStats(&stats), archive.WithDevices(true))
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil { // an empty layer still yields rootfs/
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
