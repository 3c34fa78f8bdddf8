// Package safepath builds filesystem paths from untrusted names (plugin IDs
// read from plugins.json, socket names from a plugin config, run dir names)
// and proves that they lie under a given root.
//
// Use Join wherever a path is made from data that dplug did not just
// generate itself: anything read back from disk, received from a registry
// or written by a user. Join checks the names lexically (no absolute names,
// no "." or ".." components, no empty names, no NUL bytes) and then walks the
// part of the result that already exists, refusing any symlink on the way
// that resolves outside root (or does not resolve). The result is therefore
// strictly below root: never root itself, never next to it.
//
// What Join cannot do is stop someone who can write under root from
// swapping a directory for a symlink after the check (a TOCTOU race). Keep
// root private (0700) and make changes under the store's lock, as package
// store does; then only root (the user) can race with dplug.
//
// Example:
//
//	dir, err := safepath.Join(storeDir, id)          // ROOT/plugins/<id>
//	sock, err := safepath.Join(runDir, p.Config.Interface.Socket)
package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafe is matched (errors.Is) by every error Join returns for a name
// it refuses; an *Error says which name and why.
var ErrUnsafe = errors.New("unsafe path")

// Error is a name Join refused.
type Error struct {
	Root   string // the root the path had to stay under
	Name   string // the offending element, as given
	Reason string // e.g. "climbs out with ..", "is absolute"
}

func (e *Error) Error() string {
	return fmt.Sprintf("unsafe path %q under %s: %s", e.Name, e.Root, e.Reason)
}

// Is makes errors.Is(err, ErrUnsafe) true.
func (e *Error) Is(target error) bool { return target == ErrUnsafe }

// Join joins root and elem like filepath.Join, but only if every element is
// a relative name that stays below root. An element may hold several
// components ("a/b"); each is checked. For the part of the result that
// exists on disk, every symlink must resolve to a path under root
// (symlinks inside root are followed as the OS would; the returned path is
// still the lexical join, not the resolved one).
//
// Refused, with an *Error: no element at all, an empty element, an
// absolute element, a "." or ".." component, an empty component ("a//b"),
// a NUL byte, and a symlink that is dangling or leaves root. Other errors
// (e.g. permission denied while checking) are returned as they are.
func Join(root string, elem ...string) (string, error) {
	if root == "" {
		return "", &Error{Root: root, Name: "", Reason: "the root is empty"}
	}
	if len(elem) == 0 {
		return "", &Error{Root: root, Name: "", Reason: "no name given (the path would be the root itself)"}
	}
	var comps []string
	for _, e := range elem {
		if err := checkName(root, e); err != nil {
			return "", err
		}
		comps = append(comps, strings.Split(e, "/")...)
	}
	root = filepath.Clean(root)
	p := filepath.Join(append([]string{root}, comps...)...)
	if err := checkLinks(root, comps, elem); err != nil {
		return "", err
	}
	return p, nil
}

// checkName refuses what can never be a name under root, without touching
// the disk.
func checkName(root, e string) error {
	bad := func(reason string) error { return &Error{Root: root, Name: e, Reason: reason} }
	switch {
	case e == "":
		return bad("the name is empty")
	case strings.IndexByte(e, 0) >= 0:
		return bad("the name contains a NUL byte")
	case filepath.IsAbs(e) || strings.HasPrefix(e, "/"):
		return bad("the name is absolute")
	}
	for _, c := range strings.Split(e, "/") {
		switch c {
		case "":
			return bad("the name has an empty component")
		case ".":
			return bad(`the name has a "." component`)
		case "..":
			return bad(`the name climbs out with ".."`)
		}
	}
	return nil
}

// checkLinks walks root/comps[0]/comps[1]/... while it exists and refuses
// a symlink that resolves outside root.
func checkLinks(root string, comps, elem []string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing exists below a missing root: no symlink either
	}
	if err != nil {
		return fmt.Errorf("resolving %s: %w", root, err)
	}
	p := root
	for _, c := range comps {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("checking %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		name := strings.Join(elem, "/")
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return &Error{Root: root, Name: name, Reason: fmt.Sprintf("%s is a symlink that does not resolve", p)}
		}
		if !within(realRoot, target) {
			return &Error{Root: root, Name: name, Reason: fmt.Sprintf("%s is a symlink to %s, outside the root", p, target)}
		}
	}
	return nil
}

// within reports whether p is strictly below root (both cleaned, absolute
// or both relative).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}
