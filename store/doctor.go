package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/dplug/dplug/internal/safepath"
	"github.com/dplug/dplug/plugin"
)

// Report is what Doctor found and, with fix, did. Doctor never deletes a
// plugin dir it cannot account for: such dirs are moved to
// ROOT/plugins/lost+found/ (MovedAside says from where to where).
type Report struct {
	// Removed are leftovers of killed installs/removals under tmp/.
	Removed []string `json:"Removed"`
	// Leftovers are tmp/ leftovers found but not removed because the store
	// is read-only (ReadOnly).
	Leftovers []string `json:"Leftovers,omitempty"`
	// ReadOnly is set when the store could only be read: nothing was
	// changed and nothing can be fixed.
	ReadOnly bool `json:"ReadOnly,omitempty"`
	// Damaged says why plugins.json cannot be read ("" when it can). Its
	// plugins are then listed in Recovered: with fix, the inventory is
	// rebuilt from their dirs and plugins.json.bak, and the damaged file is
	// kept in lost+found.
	Damaged string `json:"Damaged,omitempty"`
	// Recovered are the plugins found in their dirs while the inventory
	// is damaged (with fix: the rebuilt inventory).
	Recovered []Recovered `json:"Recovered,omitempty"`
	// Orphans are plugin dirs the inventory does not list (a kill between
	// the rename into place and the inventory write, or during rm).
	Orphans []string `json:"Orphans"`
	// Deleted are the orphans that belong to plugins the last inventory
	// change dropped (plugins.json.bak lists them and the change did
	// nothing else: an interrupted rm or install --replace); fix deletes
	// them.
	Deleted []string `json:"Deleted,omitempty"`
	// MovedAside are the dirs (and damaged inventory) fix moves, or would
	// move, to lost+found because nothing says whose they are.
	MovedAside []Move `json:"MovedAside,omitempty"`
	// Missing are inventory entries whose directory is gone.
	Missing []string `json:"Missing"`
	// Resynced are plugin-settings.json files rewritten from the inventory.
	Resynced []string `json:"Resynced"`
	// Fixed says whether the problems above were repaired.
	Fixed bool `json:"Fixed"`
}

// Recovered is a plugin rebuilt from its dir when plugins.json is damaged.
type Recovered struct {
	ID      string `json:"Id"`
	Name    string `json:"Name"` // name:tag
	Enabled bool   `json:"Enabled"`
	// From says where the name and enabled state come from:
	// "plugins.json.bak", or "derived from the ID" (then the plugin is
	// disabled; rename it by reinstalling).
	From string `json:"From"`
	// Note is set when plugin-settings.json could not be used (then the
	// settings come from the backup or the config's defaults).
	Note string `json:"Note,omitempty"`
}

// Move is a path moved aside to lost+found.
type Move struct {
	From   string `json:"From"`
	To     string `json:"To"`
	Reason string `json:"Reason"`
}

const (
	fromBackup  = backupFile
	fromDerived = "derived from the ID"
)

// Doctor checks the store under its lock. It always removes tmp/ leftovers
// of dead processes. With fix it also: rebuilds a damaged plugins.json
// from the plugin dirs (each holds config.json and plugin-settings.json)
// and plugins.json.bak (names and enabled state); deletes the orphan dirs
// of plugins the last change removed; moves every other dir it cannot
// account for to lost+found; drops inventory entries whose dir is missing;
// and rewrites stale plugin-settings.json. On a read-only store it only
// reports (fix is ErrReadOnly).
func (s *Store) Doctor(fix bool) (*Report, error) {
	r := &Report{Fixed: fix}
	var errs []error
	if s.readOnly {
		if fix {
			return nil, fmt.Errorf("repairing plugin store %s: %w", s.dir, ErrReadOnly)
		}
		r.ReadOnly = true
		r.Leftovers = s.leftovers()
	} else {
		unlock, err := s.lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
		removed, err := s.cleanTmp()
		r.Removed = removed
		errs = append(errs, err)
	}
	bak, _, bakErr := s.readInventoryFile(backupFile)
	if bakErr != nil {
		bak = inventory{} // a damaged backup only costs the names
	}
	inv, _, err := s.readInventoryFile(inventoryFile)
	var ie *InventoryError
	if errors.As(err, &ie) {
		r.Damaged = ie.Err.Error()
		rebuilt, err := s.rebuild(r, bak, fix)
		if err != nil || !fix {
			return r, errors.Join(append(errs, err)...)
		}
		// Every dir is now listed or in lost+found; go on with the
		// settings checks (never with orphan deletion: a dir that could
		// not be moved aside stays where it is).
		inv = rebuilt
	} else if err != nil {
		return r, errors.Join(append(errs, err)...)
	} else if r.Orphans, err = s.orphans(inv); err != nil {
		errs = append(errs, err)
	}
	for _, o := range r.Orphans {
		id := filepath.Base(o)
		if removedByLastChange(id, inv, bak) {
			r.Deleted = append(r.Deleted, o)
			if fix {
				errs = append(errs, s.deleteOrphan(id))
			}
			continue
		}
		reason := "in neither plugins.json nor plugins.json.bak (an install killed before it completed?)"
		if _, ok := bak[id]; ok {
			reason = "not in plugins.json, in plugins.json.bak, but the last change did more than remove it"
		}
		m := Move{From: o, To: filepath.Join(s.dir, lostFoundDir, id), Reason: reason}
		if fix {
			if m.To, err = s.moveAside(o); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		r.MovedAside = append(r.MovedAside, m)
	}
	changed := false
	for _, p := range inv.sorted() {
		if _, err := s.pluginDir(p.ID); err != nil {
			// e.g. the dir replaced by a symlink out of the store: drop
			// the entry, move the link (not what it points to) aside.
			r.Missing = append(r.Missing, p.FullName()+" ("+p.ShortID()+"): "+err.Error())
			m := Move{From: p.Dir, To: filepath.Join(s.dir, lostFoundDir, p.ID), Reason: "plugin " + p.FullName() + ": " + err.Error()}
			if fix {
				delete(inv, p.ID)
				changed = true
				if m.To, err = s.moveAside(p.Dir); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			r.MovedAside = append(r.MovedAside, m)
			continue
		}
		if fi, err := os.Stat(filepath.Join(p.Dir, rootfsDir)); err != nil || !fi.IsDir() {
			r.Missing = append(r.Missing, p.FullName()+" ("+p.ShortID()+")")
			if fix {
				delete(inv, p.ID)
				changed = true
			}
			// What is left of the dir goes aside with the entry: once
			// dropped, the backup would otherwise mark it for deletion.
			if _, err := os.Lstat(p.Dir); err == nil {
				m := Move{From: p.Dir, To: filepath.Join(s.dir, lostFoundDir, p.ID), Reason: "plugin " + p.FullName() + " has no rootfs/: its entry is dropped"}
				if fix {
					if m.To, err = s.moveAside(p.Dir); err != nil {
						errs = append(errs, err)
						continue
					}
				}
				r.MovedAside = append(r.MovedAside, m)
			}
			continue
		}
		want, err := marshalSettings(&p.Settings)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(p.Dir, settingsFile)
		if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
			r.Resynced = append(r.Resynced, path)
			if fix {
				errs = append(errs, s.writeFile(path, want, 0o600))
			}
		}
	}
	if fix && changed {
		errs = append(errs, s.writeInventory(inv))
	}
	return r, errors.Join(errs...)
}

// removedByLastChange reports whether the orphan dir id belongs to a
// plugin the last inventory change dropped: plugins.json.bak lists it and
// the change did nothing but drop it (rm) or swap it for a complete plugin
// of the same name (install --replace). Anything else (say, a key damaged
// into another valid ID) does not account for the dir.
func removedByLastChange(id string, inv, bak inventory) bool {
	old, ok := bak[id]
	if !ok {
		return false
	}
	for k := range bak {
		if _, ok := inv[k]; !ok && k != id {
			return false
		}
	}
	added := 0
	for k, p := range inv {
		if _, ok := bak[k]; ok {
			continue
		}
		added++
		if added > 1 || p.FullName() != old.FullName() {
			return false
		}
		if fi, err := os.Stat(filepath.Join(p.Dir, rootfsDir)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// rebuild lists the plugins found in their dirs for a damaged inventory
// (r.Recovered) and the dirs nothing accounts for (r.MovedAside); with fix
// it keeps the damaged file in lost+found, writes the rebuilt inventory
// (plugins.json.bak, the last good generation, is left as it is) and moves
// the unaccounted dirs aside.
func (s *Store) rebuild(r *Report, bak inventory, fix bool) (inventory, error) {
	dirs, err := s.entryDirs()
	if err != nil {
		return nil, err
	}
	var found []*Plugin
	notes := map[string]string{}
	for _, d := range dirs {
		p, note, why := s.recoverDir(d, bak)
		if why != "" {
			r.MovedAside = append(r.MovedAside, Move{From: filepath.Join(s.dir, d), To: filepath.Join(s.dir, lostFoundDir, d), Reason: why})
			continue
		}
		notes[p.ID] = note
		found = append(found, p)
	}
	// Names from the backup first, so that no derived name can take one.
	sort.SliceStable(found, func(i, j int) bool {
		_, bi := bak[found[i].ID]
		_, bj := bak[found[j].ID]
		return bi && !bj
	})
	inv := inventory{}
	taken := map[string]bool{}
	for _, p := range found {
		from := fromDerived
		if b, ok := bak[p.ID]; ok && !taken[b.FullName()] {
			p.Name, p.Tag, p.Enabled, p.PluginReference = b.Name, b.Tag, b.Enabled, b.PluginReference
			from = fromBackup
		} else {
			p.Name, p.Tag, p.Enabled = "recovered-"+p.ID[:12], "latest", false
		}
		taken[p.FullName()] = true
		inv[p.ID] = p
		r.Recovered = append(r.Recovered, Recovered{ID: p.ID, Name: p.FullName(), Enabled: p.Enabled, From: from, Note: notes[p.ID]})
	}
	sort.Slice(r.Recovered, func(i, j int) bool { return r.Recovered[i].Name < r.Recovered[j].Name })
	if !fix {
		return inv, nil
	}
	// Keep the damaged file before replacing it: it may hold what no dir
	// does (names of plugins derived above).
	damaged := filepath.Join(s.dir, inventoryFile)
	b, err := os.ReadFile(damaged)
	if err != nil {
		return nil, fmt.Errorf("keeping the damaged inventory: %w", err)
	}
	keep, err := s.lostFoundName(inventoryFile + ".damaged")
	if err != nil {
		return nil, err
	}
	if err := s.writeFile(keep, b, 0o600); err != nil {
		return nil, fmt.Errorf("keeping the damaged inventory: %w", err)
	}
	r.MovedAside = append([]Move{{From: damaged, To: keep, Reason: "damaged inventory, replaced by the rebuilt one"}}, r.MovedAside...)
	// Unaccounted dirs go aside before the rebuilt inventory lands: a kill
	// in between leaves the damaged inventory (doctor starts over), never
	// a valid one next to dirs the backup may list (which doctor would
	// take for the orphans of removed plugins).
	var errs []error
	for i := range r.MovedAside[1:] {
		m := &r.MovedAside[1+i]
		to, err := s.moveAside(m.From)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m.To = to
	}
	if err := s.replaceInventory(inv); err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	return inv, errors.Join(errs...)
}

// recoverDir reads the plugin in ROOT/plugins/name. It returns the plugin
// (without name) and a note on its settings, or why the dir is not a
// plugin dir this store can list.
func (s *Store) recoverDir(name string, bak inventory) (p *Plugin, note, why string) {
	if !validID.MatchString(name) {
		return nil, "", "not named like a plugin ID"
	}
	dir, err := safepath.Join(s.dir, name)
	if err != nil {
		return nil, "", err.Error()
	}
	if fi, err := os.Lstat(filepath.Join(dir, rootfsDir)); err != nil || !fi.IsDir() {
		return nil, "", "no rootfs/ dir"
	}
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, "", "no readable config.json"
	}
	cfg, err := plugin.Parse(raw)
	if err != nil {
		return nil, "", "config.json is not a plugin config: " + err.Error()
	}
	p = &Plugin{ID: name, Dir: dir, Config: *cfg}
	sb, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if err == nil {
		var st plugin.Settings
		if err = json.Unmarshal(sb, &st); err == nil {
			p.Settings = st
			return p, "", ""
		}
	}
	if b, ok := bak[name]; ok {
		p.Settings = b.Settings
		return p, "plugin-settings.json unreadable: settings from " + backupFile, ""
	}
	p.Settings = cfg.DefaultSettings()
	return p, "plugin-settings.json unreadable: default settings from config.json", ""
}

// entryDirs lists the directories in ROOT/plugins other than tmp/ and
// lost+found/: plugin dirs, or dirs that should not be there.
func (s *Store) entryDirs() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.dir, err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() == tmpDir || e.Name() == lostFoundDir || !e.IsDir() {
			continue
		}
		out = append(out, e.Name())
	}
	return out, nil
}

// orphans lists directories in ROOT/plugins that look like plugin dirs but
// that the inventory does not list.
func (s *Store) orphans(inv inventory) ([]string, error) {
	dirs, err := s.entryDirs()
	var out []string
	for _, d := range dirs {
		if _, ok := inv[d]; !ok {
			out = append(out, filepath.Join(s.dir, d))
		}
	}
	return out, err
}

// deleteOrphan moves ROOT/plugins/id into tmp/ and deletes it there (a
// kill midway leaves a leftover the next Open removes, not a half-deleted
// plugin dir). Hold the lock.
func (s *Store) deleteOrphan(id string) error {
	dir, err := safepath.Join(s.dir, id)
	if err != nil {
		return err
	}
	trash, err := safepath.Join(s.dir, tmpDir, "rm-"+id)
	if err != nil {
		return err
	}
	if err := os.Rename(dir, trash); err != nil {
		return fmt.Errorf("removing orphan %s: %w", dir, err)
	}
	return removeDir(trash)
}

// lostFoundName returns a free path lost+found/base (or base-N), creating
// lost+found 0700.
func (s *Store) lostFoundName(base string) (string, error) {
	lf := filepath.Join(s.dir, lostFoundDir)
	if err := os.Mkdir(lf, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("creating %s: %w", lf, err)
	}
	if _, err := s.ownDir(lostFoundDir); err != nil {
		return "", err
	}
	for i := 0; ; i++ {
		name := base
		if i > 0 {
			name += "-" + strconv.Itoa(i)
		}
		p, err := safepath.Join(lf, name)
		if err != nil {
			return "", err
		}
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
}

// moveAside renames the dir p (in ROOT/plugins) into lost+found and
// returns where it went. Hold the lock.
func (s *Store) moveAside(p string) (string, error) {
	to, err := s.lostFoundName(filepath.Base(p))
	if err != nil {
		return "", err
	}
	if err := os.Rename(p, to); err != nil {
		return "", fmt.Errorf("moving %s aside: %w", p, err)
	}
	if err := syncDir(s.dir); err != nil {
		return "", err
	}
	return to, nil
}

// leftovers lists what cleanTmp would remove, without removing anything.
func (s *Store) leftovers() []string {
	dir, err := s.ownDir(tmpDir)
	if err != nil {
		return nil
	}
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			w, err := lockDir(p)
			if err != nil {
				continue // in use by a live install or remove
			}
			w.release()
		}
		out = append(out, p)
	}
	return out
}
