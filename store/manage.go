package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/dplug/dplug/archive"
	"github.com/dplug/dplug/plugin"
)

// Get returns the plugin called nameOrID: a full name ("vieux/sshfs:1.0"),
// a name without tag (":latest" assumed), a full ID or a unique ID prefix.
// The inventory is read without the lock: it is replaced atomically.
func (s *Store) Get(nameOrID string) (*Plugin, error) {
	inv, err := s.readInventory()
	if err != nil {
		return nil, err
	}
	return s.resolve(inv, nameOrID)
}

// List returns every installed plugin, sorted by name.
func (s *Store) List() ([]*Plugin, error) {
	inv, err := s.readInventory()
	if err != nil {
		return nil, err
	}
	return inv.sorted(), nil
}

// update runs fn on the plugin nameOrID under the store lock and, if fn
// succeeds, persists plugin-settings.json and then the inventory.
func (s *Store) update(nameOrID string, fn func(p *Plugin) error) (*Plugin, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	inv, err := s.readInventory()
	if err != nil {
		return nil, err
	}
	p, err := s.resolve(inv, nameOrID)
	if err != nil {
		return nil, err
	}
	before, _ := marshalSettings(&p.Settings)
	if err := fn(p); err != nil {
		return nil, err
	}
	after, err := marshalSettings(&p.Settings)
	if err != nil {
		return nil, err
	}
	if string(before) != string(after) {
		if err := s.writeFile(filepath.Join(p.Dir, settingsFile), after, 0o600); err != nil {
			return nil, err
		}
	}
	if err := s.writeInventory(inv); err != nil {
		return nil, err
	}
	return p, nil
}

// Enable marks the plugin enabled. With no daemon this is only the
// inventory flag; dplug run starts plugins.
func (s *Store) Enable(nameOrID string) (*Plugin, error) {
	return s.update(nameOrID, func(p *Plugin) error {
		if p.Enabled {
			return fmt.Errorf("plugin already enabled: plugin %s is enabled", p.FullName())
		}
		p.Enabled = true
		return nil
	})
}

// Disable marks the plugin disabled (required before Set).
func (s *Store) Disable(nameOrID string) (*Plugin, error) {
	return s.update(nameOrID, func(p *Plugin) error {
		if !p.Enabled {
			return fmt.Errorf("plugin is already disabled: plugin %s found but disabled", p.FullName())
		}
		p.Enabled = false
		return nil
	})
}

// Set changes settable env, args, mounts.source and devices.path values
// with dockerd's syntax (<name>[.<field>][=<value>]), rules and error
// messages. The plugin must be disabled (ErrEnabled); a setting that is
// not settable is an error that lists what is.
func (s *Store) Set(nameOrID string, args []string) (*Plugin, error) {
	return s.update(nameOrID, func(p *Plugin) error {
		if p.Enabled {
			return errorf(ErrEnabled, "plugin %s is enabled: cannot set on an active plugin, disable plugin before setting (`dplug disable %s`)", p.FullName(), p.FullName())
		}
		if err := applySettings(p, args); err != nil {
			names := settableNames(&p.Config)
			if len(names) == 0 {
				return fmt.Errorf("plugin %s: %w (nothing in its config.json is settable)", p.FullName(), err)
			}
			return fmt.Errorf("plugin %s: %w (settable: %s)", p.FullName(), err, strings.Join(names, ", "))
		}
		return nil
	})
}

// Remove uninstalls the plugin; an enabled one only with force. The
// inventory entry goes first, then the directory is moved under tmp/ and
// deleted, so a kill leaves at worst a leftover Open or Doctor removes.
func (s *Store) Remove(nameOrID string, force bool) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	inv, err := s.readInventory()
	if err != nil {
		unlock()
		return err
	}
	p, err := s.resolve(inv, nameOrID)
	if err != nil {
		unlock()
		return err
	}
	if p.Enabled && !force {
		unlock()
		return errorf(ErrEnabled, "plugin %s is enabled", p.FullName())
	}
	delete(inv, p.ID)
	if err := s.writeInventory(inv); err != nil {
		unlock()
		return err
	}
	// Lock the plugin dir before moving it into tmp/ so no cleaner races
	// with our RemoveAll.
	w, lerr := lockDir(p.Dir)
	if lerr == nil {
		if trash, err := s.trashDir(p.ID); err == nil && os.Rename(p.Dir, trash) == nil {
			w.path = trash
		}
	}
	unlock()
	if lerr != nil {
		if errors.Is(lerr, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing %s: %w", p.FullName(), lerr)
	}
	defer w.release()
	if err := removeDir(w.path); err != nil {
		return fmt.Errorf("removing %s: %w", p.FullName(), err)
	}
	return nil
}

// Export writes the plugin as a dir docker plugin create accepts:
// DIR/config.json (the installed config) and DIR/rootfs/. DIR must not
// exist or be empty.
func (s *Store) Export(ctx context.Context, nameOrID, dir string) error {
	p, err := s.Get(nameOrID)
	if err != nil {
		return err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("exporting %s: %s is not empty", p.FullName(), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("exporting %s: %w", p.FullName(), err)
	}
	cfg := p.Config
	cfg.Rootfs = nil // dockerd fills it in at create
	b, err := cfg.Marshal()
	if err != nil {
		return fmt.Errorf("exporting %s: %w", p.FullName(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, configFile), b, 0o644); err != nil {
		return fmt.Errorf("exporting %s: %w", p.FullName(), err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.WriteDir(ctx, pw, p.Rootfs())) }()
	err = archive.Extract(ctx, pr, filepath.Join(dir, rootfsDir),
		archive.WithDevices(true), archive.WithMaxEntries(math.MaxInt64), archive.WithMaxBytes(math.MaxInt64))
	pr.CloseWithError(errors.New("export stopped"))
	if err != nil {
		return fmt.Errorf("exporting %s: %w", p.FullName(), err)
	}
	return nil
}

func marshalSettings(st *plugin.Settings) ([]byte, error) {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding plugin settings: %w", err)
	}
	return append(b, '\n'), nil
}
