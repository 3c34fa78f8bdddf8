package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/internal/blockgz"
	"github.com/dplug/dplug/plugin"
)

// Source is where a plugin comes from: a plugin dir (DirSource), an OCI
// layout or a registry (package pack's *pack.Plugin has both methods).
type Source interface {
	// ConfigJSON returns the plugin's config.json bytes.
	ConfigJSON(ctx context.Context) ([]byte, error)
	// Layers calls fn with each rootfs layer as an uncompressed tar
	// stream, in order.
	Layers(ctx context.Context, fn func(tar io.Reader) error) error
}

// InstallOptions say under which name and with what settings a plugin is
// installed.
type InstallOptions struct {
	// Name is the plugin's name by Docker's reference rules; with no tag,
	// ":latest". For registry installs it is the reference pulled.
	Name string
	// Alias, if set, is the local name instead of Name (docker plugin
	// install --alias).
	Alias string
	// Reference is the registry reference the plugin came from, recorded
	// as PluginReference; empty for local sources.
	Reference string
	// Disabled installs the plugin without enabling it.
	Disabled bool
	// Replace swaps out a disabled plugin of the same name in the same
	// atomic inventory write (the edit-build loop); without it an existing
	// name is ErrExists. An enabled plugin is never replaced (ErrEnabled).
	Replace bool
	// Settings are KEY=VALUE settings applied at install, with the rules of
	// Set.
	Settings []string
	// Grant is shown the privileges the plugin requests before anything is
	// written; a non-nil error aborts the install. A nil Grant refuses any
	// plugin that requests privileges (use GrantAll to accept them).
	Grant func(privs []Privilege) error
}

// GrantAll accepts every privilege (dplug install --grant-all-permissions).
func GrantAll([]Privilege) error { return nil }

// Install installs the plugin src provides. Nothing is written before the
// config has been read, the settings checked and the privileges granted;
// the rootfs is extracted under tmp/ through archive.Extract (device nodes
// refused), and the plugin appears in the inventory only once complete.
func (s *Store) Install(ctx context.Context, src Source, opts InstallOptions) (*Plugin, error) {
	local := opts.Name
	if opts.Alias != "" {
		local = opts.Alias
	}
	if local == "" {
		return nil, errors.New("installing plugin: no name given")
	}
	name, tag, err := ParseName(local)
	if err != nil {
		return nil, fmt.Errorf("installing plugin: %w", err)
	}
	p, err := s.install(ctx, src, opts, name, tag)
	var kind *kindError
	if err != nil && !errors.As(err, &kind) && !errors.Is(err, ErrDamaged) {
		// The name is taken, enabled, or the inventory is damaged: those
		// messages already name the plugin or the file.
		err = fmt.Errorf("installing %s: %w", name+":"+tag, err)
	}
	return p, err
}

func (s *Store) install(ctx context.Context, src Source, opts InstallOptions, name, tag string) (*Plugin, error) {
	// A taken name fails before anything is fetched or asked.
	inv, err := s.readInventory()
	if err != nil {
		return nil, err
	}
	if _, err := checkName(inv, name, tag, opts.Replace); err != nil {
		return nil, err
	}
	raw, err := src.ConfigJSON(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := plugin.Parse(raw)
	if err != nil {
		return nil, err
	}
	p := &Plugin{Name: name, Tag: tag, PluginReference: opts.Reference, Config: *cfg, Settings: cfg.DefaultSettings()}
	if err := applySettings(p, opts.Settings); err != nil {
		return nil, err
	}
	p.Enabled = !opts.Disabled
	grant := opts.Grant
	if grant == nil {
		grant = func(ps []Privilege) error {
			if len(ps) > 0 {
				return ErrNotGranted
			}
			return nil
		}
	}
	// The privileges asked for are those the plugin will run with: the
	// install-time settings (a mount source, a device path) applied.
	eff := *cfg
	eff.Mounts, eff.Linux.Devices = p.Settings.Mounts, p.Settings.Devices
	if err := grant(Privileges(&eff)); err != nil {
		return nil, err
	}
	cfgJSON, err := cfg.Marshal()
	if err != nil {
		return nil, err
	}

	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	w, err := s.newWorkDir()
	unlock()
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			w.discard()
		}
	}()
	if err := s.fill(ctx, w.path, src, cfgJSON, &p.Settings); err != nil {
		return nil, err
	}

	unlock, err = s.lock()
	if err != nil {
		return nil, err
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	inv, err = s.readInventory()
	if err != nil {
		return nil, err
	}
	old, err := checkName(inv, name, tag, opts.Replace)
	if err != nil {
		return nil, err
	}
	if old != nil {
		delete(inv, old.ID)
	}
	if p.ID, err = newID(); err != nil {
		return nil, err
	}
	if p.Dir, err = s.pluginDir(p.ID); err != nil {
		return nil, err
	}
	if err := os.Rename(w.path, p.Dir); err != nil {
		return nil, err
	}
	done = true
	w.release()
	if err := syncDir(s.dir); err != nil {
		return nil, err
	}
	inv[p.ID] = p
	if err := s.writeInventory(inv); err != nil {
		// Not in the inventory: the dir is an orphan now; remove it.
		_ = removeDir(p.Dir)
		return nil, err
	}
	if old != nil {
		// The replaced plugin left the inventory with the write above; its
		// dir goes to tmp/ under the lock and is deleted after it.
		if dir, err := s.pluginDir(old.ID); err == nil {
			if w, err := lockDir(dir); err == nil {
				if trash, err := s.trashDir(old.ID); err == nil && os.Rename(dir, trash) == nil {
					w.path = trash
				}
				unlock()
				locked = false
				_ = removeDir(w.path)
				w.release()
			}
		}
	}
	return p, nil
}

// checkName returns the plugin name:tag may replace (nil if the name is
// free), or why it cannot be installed.
func checkName(inv inventory, name, tag string, replace bool) (*Plugin, error) {
	old, err := inv.find(name, tag)
	switch {
	case err != nil:
		return nil, nil
	case !replace:
		return nil, errorf(ErrExists, "plugin %s already exists", old.FullName())
	case old.Enabled:
		return nil, errorf(ErrEnabled, "plugin %s is enabled: disable it before replacing it", old.FullName())
	}
	return old, nil
}

// fill writes a complete plugin dir into dir: rootfs/, config.json and
// plugin-settings.json, everything flushed to disk.
func (s *Store) fill(ctx context.Context, dir string, src Source, cfgJSON []byte, settings *plugin.Settings) error {
	rootfs := filepath.Join(dir, rootfsDir)
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return err
	}
	stats := &archive.Stats{}
	// Writeback of each file starts as soon as it is written, so that the
	// syncfs below finds little left to flush.
	xopts := append(append([]archive.Option(nil), s.o.extract...), archive.WithStats(stats), archive.WithDevices(false),
		archive.WithWriteback(true))
	start := time.Now()
	err := src.Layers(ctx, func(r io.Reader) error {
		return archive.Extract(ctx, r, rootfs, xopts...)
	})
	if err != nil {
		return fmt.Errorf("extracting rootfs: %w", err)
	}
	s.o.log.Debug("rootfs extracted", "entries", stats.Entries, "bytes", stats.Bytes, "took", time.Since(start), "inflate", blockgz.Decoder)
	if err := writeNew(filepath.Join(dir, configFile), cfgJSON, 0o444); err != nil {
		return err
	}
	sb, err := marshalSettings(settings)
	if err != nil {
		return err
	}
	if err := writeNew(filepath.Join(dir, settingsFile), sb, 0o600); err != nil {
		return err
	}
	// One syncfs flushes the whole extracted tree instead of an fsync per
	// file.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	start = time.Now()
	if err := syncFS(d); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	s.o.log.Debug("plugin dir synced", "took", time.Since(start))
	return nil
}

// writeNew creates path (which must not exist) with data, for a plugin
// dir that fill's syncFS flushes next: it fsyncs the file only where
// syncFS does not cover it (on Linux an fsync each would cost a journal
// commit each, for nothing). Not Store.writeFile, which replaces a file
// of a live store whole.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if !syncFSCoversFiles {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// find returns the plugin called name:tag.
func (inv inventory) find(name, tag string) (*Plugin, error) {
	for _, p := range inv {
		if p.Name == name && p.Tag == tag {
			return p, nil
		}
	}
	return nil, errorf(ErrNotFound, "plugin %q not found", name+":"+tag)
}

// dirSource streams a plugin dir (config.json + rootfs/) as one layer.
type dirSource struct{ dir string }

// DirSource is a plugin dir as docker plugin create takes it: config.json
// and rootfs/. The rootfs is streamed as a tar through archive.Extract, so
// a local dir gets the same checks as a downloaded layer.
func DirSource(dir string) Source { return dirSource{dir: dir} }

func (d dirSource) ConfigJSON(context.Context) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("reading plugin dir %s: config not found: %w", d.dir, err)
	}
	return b, nil
}

func (d dirSource) Layers(ctx context.Context, fn func(io.Reader) error) error {
	rootfs := filepath.Join(d.dir, rootfsDir)
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return fmt.Errorf("reading plugin dir %s: no rootfs found", d.dir)
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(archive.WriteDir(ctx, pw, rootfs))
	}()
	err := fn(pr)
	// Unblock the writer if fn stopped early.
	pr.CloseWithError(errors.New("layer consumer stopped"))
	return err
}
