package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dplug/dplug/internal/exitcode"
)

const backupFile = "plugins.json.bak"

// ErrDamaged is matched (errors.Is) by an *InventoryError.
var ErrDamaged = errors.New("plugin inventory damaged")

// InventoryError is returned by every operation that reads plugins.json
// when the file cannot be trusted: not JSON, truncated, null, an entry that
// is null, whose key is not a plugin ID or whose name is not a valid
// reference, two entries with the same name. Nothing is changed in the
// store when it is returned; Doctor(true) rebuilds the inventory from the
// plugin dirs and plugins.json.bak.
type InventoryError struct {
	Path string // the damaged file
	Err  error  // what is wrong with it
}

func (e *InventoryError) Error() string {
	return fmt.Sprintf("plugin inventory %s is damaged: %v; run 'dplug doctor --fix' to rebuild it from the plugin dirs", e.Path, e.Err)
}

func (e *InventoryError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDamaged) true.
func (e *InventoryError) Is(target error) bool { return target == ErrDamaged }

// ExitClass makes a damaged inventory a usage error for the CLI
// (exitcode.Classed): unreadable input, like a store that cannot be opened;
// the message says to run dplug doctor --fix.
func (e *InventoryError) ExitClass() int { return exitcode.Usage }

// inventory maps plugin ID to its record.
type inventory map[string]*Plugin

// decodeInventory parses plugins.json strictly: one JSON object and nothing
// after it, keys unique 64-hex plugin IDs, every value a plugin record
// (not null) whose Id, if set, is its key, whose Name:Tag is a valid local
// name in its familiar form, and no two records with the same name. dir is
// ROOT/plugins: each record's Dir is dir/<id>.
func decodeInventory(b []byte, dir string) (inventory, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, fmt.Errorf("not a JSON object (found %v)", tokString(tok))
	}
	inv := inventory{}
	names := map[string]string{} // name:tag -> id
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		id, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("bad key %v", tokString(tok))
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return nil, fmt.Errorf("entry %q: %w", id, err)
		}
		if !validID.MatchString(id) {
			return nil, fmt.Errorf("entry %q: the key is not a plugin ID (64 lowercase hex digits)", id)
		}
		if _, dup := inv[id]; dup {
			return nil, fmt.Errorf("entry %s appears twice", id)
		}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, fmt.Errorf("entry %s is null", id)
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return nil, fmt.Errorf("entry %s is not an object", id)
		}
		p := &Plugin{}
		if err := json.Unmarshal(raw, p); err != nil {
			return nil, fmt.Errorf("entry %s: %w", id, err)
		}
		if p.ID != "" && p.ID != id {
			return nil, fmt.Errorf("entry %s has Id %q", id, p.ID)
		}
		name, tag, err := ParseName(p.Name + ":" + p.Tag)
		if err != nil || p.Tag == "" || name != p.Name || tag != p.Tag {
			return nil, fmt.Errorf("entry %s: name %q tag %q is not a plugin name", id, p.Name, p.Tag)
		}
		full := p.FullName()
		if other, dup := names[full]; dup {
			return nil, fmt.Errorf("entries %s and %s are both named %s", other, id, full)
		}
		names[full] = id
		p.ID = id
		p.Dir = filepath.Join(dir, id) // id is 64 hex digits: a plain name
		inv[id] = p
	}
	if _, err := d.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return inv, nil
}

func tokString(t json.Token) string {
	if t == nil {
		return "null"
	}
	return fmt.Sprintf("%v", t)
}

// readInventory reads plugins.json (a missing file is an empty store); a
// damaged one is an *InventoryError.
func (s *Store) readInventory() (inventory, error) {
	inv, _, err := s.readInventoryFile(inventoryFile)
	return inv, err
}

// readInventoryFile reads and decodes ROOT/plugins/name, also returning
// the bytes read (nil for a missing file).
func (s *Store) readInventoryFile(name string) (inventory, []byte, error) {
	path := filepath.Join(s.dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return inventory{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading plugin inventory: %w", err)
	}
	inv, err := decodeInventory(b, s.dir)
	if err != nil {
		return nil, b, &InventoryError{Path: path, Err: err}
	}
	return inv, b, nil
}

// writeInventory replaces plugins.json atomically, after saving the
// current generation as plugins.json.bak (atomically too: a kill between
// the two writes leaves both files equal). Hold the lock, and have read
// the inventory under it (so the current file is known to be valid).
func (s *Store) writeInventory(inv inventory) error {
	old, err := os.ReadFile(filepath.Join(s.dir, inventoryFile))
	switch {
	case err == nil:
		if err := s.writeFile(filepath.Join(s.dir, backupFile), old, 0o600); err != nil {
			return fmt.Errorf("saving the previous plugin inventory: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading plugin inventory: %w", err)
	}
	return s.replaceInventory(inv)
}

// replaceInventory writes plugins.json without touching the backup.
func (s *Store) replaceInventory(inv inventory) error {
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding plugin inventory: %w", err)
	}
	return s.writeFile(filepath.Join(s.dir, inventoryFile), append(b, '\n'), 0o600)
}
